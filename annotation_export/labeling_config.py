"""The Label Studio labeling config (XML): two tiles side by side and MMVP's fields."""

from __future__ import annotations

from annotation_export.categories import CATEGORIES, Category
from annotation_export.text import xml_attr

# Names of the control tags; ingest reads annotations by these names.
VERDICT = "verdict"
REJECT_REASON = "reject_reason"
CATEGORY = "category"
QUESTION = "question"
OPTION_A = "option_a"
OPTION_B = "option_b"
ANSWER_A = "answer_a"
ANSWER_B = "answer_b"
ACCEPT = "usable"
REJECT = "reject"
REJECT_HINT = "Why is the pair unusable (not really different, cloud, blank...)?"


def _choice(category: Category) -> str:
    hint = f"{category.hint} (MMVP: {category.mmvp})"
    return (
        f"      <Choice value={xml_attr(category.name)} alias={xml_attr(category.id)} "
        f"hint={xml_attr(hint)}/>"
    )


def _text_area(name: str, to: str, placeholder: str) -> str:
    return (
        f'    <TextArea name="{name}" toName="{to}" maxSubmissions="1" editable="true" '
        f'rows="1" placeholder={xml_attr(placeholder)}/>'
    )


def _answer(name: str, to: str, label: str) -> str:
    return (
        f'    <Header value={xml_attr(label)} size="6"/>\n'
        f'    <Choices name="{name}" toName="{to}" choice="single" showInline="true">\n'
        f'      <Choice value="(a)" alias="a"/>\n      <Choice value="(b)" alias="b"/>\n'
        f"    </Choices>"
    )


def labeling_config(categories: tuple[Category, ...] = CATEGORIES) -> str:
    """The XML config: verdict, reject reason, category, question, options and two answers."""
    choices = "\n".join(_choice(c) for c in categories)
    return f"""<View>
  <Header value="Pair $pair_id"/>
  <Text name="info" value="$info"/>
  <View style="display: flex; gap: 12px;">
    <View style="flex: 1;">
      <Header value="Image A" size="5"/><Image name="image_a" value="$image_a"/>
    </View>
    <View style="flex: 1;">
      <Header value="Image B" size="5"/><Image name="image_b" value="$image_b"/>
    </View>
  </View>
  <Header value="Do the two images differ in a way one question can tell apart?" size="5"/>
  <Choices name="{VERDICT}" toName="image_a" choice="single" showInline="true" required="true">
    <Choice value="Usable" alias="{ACCEPT}"/>
    <Choice value="Reject" alias="{REJECT}"/>
  </Choices>
  <View visibleWhen="choice-selected" whenTagName="{VERDICT}" whenChoiceValue="Reject">
{_text_area(REJECT_REASON, "image_a", REJECT_HINT)}
  </View>
  <View visibleWhen="choice-selected" whenTagName="{VERDICT}" whenChoiceValue="Usable">
    <Header value="Visual pattern" size="6"/>
    <Choices name="{CATEGORY}" toName="image_a" choice="single">
{choices}
    </Choices>
{_text_area(QUESTION, "image_a", "One question about both images")}
{_text_area(OPTION_A, "image_a", "Option (a)")}
{_text_area(OPTION_B, "image_a", "Option (b)")}
{_answer(ANSWER_A, "image_a", "Right option for image A")}
{_answer(ANSWER_B, "image_b", "Right option for image B")}
  </View>
</View>
"""
