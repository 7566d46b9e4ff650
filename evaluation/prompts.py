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
    # The letter-choice form of lmms-eval / VLMEvalKit multiple-choice tasks.
    "letter-v1": PromptTemplate(
        "letter-v1",
        "{question}\nA. {a}\nB. {b}\nAnswer with the option's letter from the given choices "
        "directly.",
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
