"""Validation rules for one annotation: a registry of small checks, each naming its reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from annotation_export import labeling_config as tags
from annotation_export.annotations import Annotation
from annotation_export.categories import find_category
from annotation_export.text import normalise

_MARKER = re.compile(r"\(\s*[ab]\s*\)", re.IGNORECASE)
# Longest accepted texts, in characters (MMVP's are under 150): longer ones are rejected
# at ingest, so no prompt, CSV cell or report line carries an essay.
MAX_QUESTION_CHARS = 1000
MAX_OPTION_CHARS = 300
_ANSWERS = {"a": "a", "(a)": "a", "b": "b", "(b)": "b"}


@dataclass(frozen=True)
class Item:
    """An accepted MMVP question about a pair."""

    category: str
    question: str
    option_a: str
    option_b: str
    answer_a: str  # right option for image A: 'a' or 'b'
    answer_b: str

    def key(self) -> tuple[str, ...]:
        """What two annotations must share to agree."""
        return (
            self.category,
            normalise(self.question),
            normalise(self.option_a),
            normalise(self.option_b),
            self.answer_a,
            self.answer_b,
        )


@dataclass(frozen=True)
class Verdict:
    """The outcome of validating one annotation."""

    annotation: Annotation
    item: Item | None = None
    rejected: str | None = None  # the annotator's reason for rejecting the pair
    problems: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        if self.annotation.cancelled:
            return "skipped"
        if self.problems:
            return "invalid"
        return "rejected" if self.rejected is not None else "valid"


Fields = dict[str, str]
Rule = Callable[[Fields], str | None]


def _text(fields: Fields, name: str) -> str:
    return " ".join(fields.get(name, "").split())


def _answer(fields: Fields, name: str) -> str | None:
    return _ANSWERS.get(_text(fields, name).lower())


def rule_question(fields: Fields) -> str | None:
    return None if _text(fields, tags.QUESTION) else "empty question"


def rule_options_present(fields: Fields) -> str | None:
    empty = [s for s, n in (("(a)", tags.OPTION_A), ("(b)", tags.OPTION_B)) if not _text(fields, n)]
    return f"empty option {' and '.join(empty)}" if empty else None


def rule_options_distinct(fields: Fields) -> str | None:
    a, b = _text(fields, tags.OPTION_A), _text(fields, tags.OPTION_B)
    return "options (a) and (b) are the same" if a and normalise(a) == normalise(b) else None


def rule_options_markers(fields: Fields) -> str | None:
    for side, name in (("(a)", tags.OPTION_A), ("(b)", tags.OPTION_B)):
        if _MARKER.search(_text(fields, name)):
            return f"option {side} contains '(a)' or '(b)', which breaks MMVP's Options column"
    return None


# Strings pandas reads as NaN by default (pandas.read_csv na_values): VLMEvalKit drops
# such an option (build_choices skips NaN), so a question would lose its option B.
PANDAS_NA = frozenset(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
     "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)  # fmt: skip


def rule_options_portable(fields: Fields) -> str | None:
    """Option texts other tools cannot read back: NaN words, parentheses."""
    for side, name in (("(a)", tags.OPTION_A), ("(b)", tags.OPTION_B)):
        text = _text(fields, name)
        if text and text in PANDAS_NA:
            return (
                f"option {side} {text!r} reads as a missing value (NaN) in pandas, so "
                "VLMEvalKit would drop it; write it out (e.g. 'no cars', 'not applicable')"
            )
        if "(" in text or ")" in text:
            return (
                f"option {side} contains a parenthesis, which breaks lmms-eval's split of "
                "MMVP's Options column; rephrase without brackets"
            )
    return None


def rule_lengths(fields: Fields) -> str | None:
    limits = (
        ("question", tags.QUESTION, MAX_QUESTION_CHARS),
        ("option (a)", tags.OPTION_A, MAX_OPTION_CHARS),
        ("option (b)", tags.OPTION_B, MAX_OPTION_CHARS),
    )
    for what, name, limit in limits:
        if len(_text(fields, name)) > limit:
            return f"{what} is {len(_text(fields, name))} characters long; the limit is {limit}"
    return None


def rule_answers_present(fields: Fields) -> str | None:
    missing = [s for s, n in (("A", tags.ANSWER_A), ("B", tags.ANSWER_B)) if not _answer(fields, n)]
    return f"no answer (a)/(b) for image {' and '.join(missing)}" if missing else None


def rule_answers_differ(fields: Fields) -> str | None:
    a, b = _answer(fields, tags.ANSWER_A), _answer(fields, tags.ANSWER_B)
    return "both images have the same answer; they must differ" if a and a == b else None


def rule_category(fields: Fields) -> str | None:
    value = _text(fields, tags.CATEGORY)
    if not value:
        return "no visual pattern category"
    return None if find_category(value) else f"unknown category {value!r}"


# Every rule an accepted annotation must pass, in the order reasons are listed.
RULES: dict[str, Rule] = {
    "question": rule_question,
    "options_present": rule_options_present,
    "options_distinct": rule_options_distinct,
    "options_markers": rule_options_markers,
    "options_portable": rule_options_portable,
    "lengths": rule_lengths,
    "answers_present": rule_answers_present,
    "answers_differ": rule_answers_differ,
    "category": rule_category,
}


def check_fields(fields: Fields) -> list[str]:
    """The reasons ``fields`` is not a usable question (empty when it is)."""
    return [reason for rule in RULES.values() if (reason := rule(fields)) is not None]


def item_from_fields(fields: Fields) -> Item:
    """The item of fields that passed :func:`check_fields`."""
    category = find_category(_text(fields, tags.CATEGORY))
    return Item(
        category=category.id if category else "",
        question=_text(fields, tags.QUESTION),
        option_a=_text(fields, tags.OPTION_A),
        option_b=_text(fields, tags.OPTION_B),
        answer_a=_answer(fields, tags.ANSWER_A) or "",
        answer_b=_answer(fields, tags.ANSWER_B) or "",
    )


def validate(annotation: Annotation) -> Verdict:
    """Validate one annotation: a usable item, a rejection with its reason, or problems."""
    if annotation.cancelled:
        return Verdict(annotation)
    if annotation.problems:
        return Verdict(annotation, problems=annotation.problems)
    fields = annotation.fields
    verdict = _text(fields, tags.VERDICT).lower()
    if verdict == tags.REJECT or verdict == "reject":
        reason = _text(fields, tags.REJECT_REASON) or "no reason given"
        return Verdict(annotation, rejected=reason)
    if verdict not in ("", tags.ACCEPT):
        return Verdict(annotation, problems=(f"unknown verdict {verdict!r}",))
    problems = check_fields(fields)
    if problems:
        return Verdict(annotation, problems=tuple(problems))
    return Verdict(annotation, item=item_from_fields(fields))
