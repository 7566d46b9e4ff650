"""Versioned prompt templates. Changing a template's text means a new version.

The version is part of every cache key and every score, so results made with
different wordings are never mixed. ``tests/evaluation/test_prompts.py`` holds
a snapshot of each template and fails when its text changes in place.
"""

from __future__ import annotations

from dataclasses import dataclass

from evaluation.items import BenchItem


@dataclass(frozen=True)
class PromptTemplate:
    """A question template with the labels its options are shown under."""

    version: str
    text: str
    labels: tuple[str, str]  # how options a and b are shown, e.g. ("(a)", "(b)")

    def render(self, item: BenchItem) -> str:
        return self.text.format(question=item.question, a=item.option_a, b=item.option_b)


TEMPLATES: dict[str, PromptTemplate] = {
    # MMVP (evaluate_mllm.py): the question, a space and the Options column.
    "mmvp-v1": PromptTemplate("mmvp-v1", "{question} (a) {a} (b) {b}", ("(a)", "(b)")),
    # lmms-eval's MMVP task (lmms_eval/tasks/mmvp/utils.py, mmvp_doc_to_text with the
    # default post_prompt). lmms-eval also caps replies at max_new_tokens 16
    # (_default_template_yaml): pass --max-tokens 16 to reproduce its numbers.
    "letter-v1": PromptTemplate(
        "letter-v1",
        "{question}\nA. {a}\nB. {b}\nAnswer with the option's letter from the given choices "
        "directly.",
        ("A.", "B."),
    ),
    # Superseded by vlmevalkit-v2: VLMEvalKit's prompt without its trailing " \n"
    # (kept so that runs made with it keep their meaning).
    "vlmevalkit": PromptTemplate(
        "vlmevalkit",
        "Question: {question}\nOptions:\nA. {a}\nB. {b}\n"
        "Please select the correct answer from the options above.",
        ("A.", "B."),
    ),
    # VLMEvalKit's ImageMCQDataset.build_prompt (vlmeval/dataset/image_mcq.py) byte for
    # byte, with no hint: its text message, which API models get as is.
    "vlmevalkit-v2": PromptTemplate(
        "vlmevalkit-v2",
        "Question: {question}\nOptions:\nA. {a}\nB. {b}\n"
        "Please select the correct answer from the options above. \n",
        ("A.", "B."),
    ),
}
DEFAULT_TEMPLATE = "mmvp-v1"


def get_template(version: str) -> PromptTemplate:
    """The template of ``version``; ValueError lists the known ones."""
    try:
        return TEMPLATES[version]
    except KeyError:
        raise ValueError(f"unknown prompt {version!r} (known: {', '.join(TEMPLATES)})") from None
