"""Snapshot of every prompt template: changing a text in place must fail here.

To change a wording, add a new version (e.g. ``mmvp-v2``) instead, so cached
answers and published scores of the old one stay meaningful.
"""

from __future__ import annotations

from evaluation.items import BenchItem
from evaluation.prompts import DEFAULT_TEMPLATE, TEMPLATES

ITEM = BenchItem(1, b"", "Is the door open?", "Open", "Closed", "a")

SNAPSHOT = {
    "mmvp-v1": "Is the door open? (a) Open (b) Closed",
    "letter-v1": "Is the door open?\nA. Open\nB. Closed\n"
    "Answer with the option's letter from the given choices directly.",
    "vlmevalkit": "Question: Is the door open?\nOptions:\nA. Open\nB. Closed\n"
    "Please select the correct answer from the options above.",
    "vlmevalkit-v2": "Question: Is the door open?\nOptions:\nA. Open\nB. Closed\n"
    "Please select the correct answer from the options above. \n",
}


def vlmevalkit_build_prompt(line: dict) -> str:
    """The text of VLMEvalKit's ``ImageMCQDataset.build_prompt`` (vlmeval/dataset/
    image_mcq.py), restated from its source for a row with no hint."""
    options = {c: line[c] for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c in line}
    prompt = f"Question: {line['question']}\n"
    if options:
        prompt += "Options:\n" + "".join(f"{k}. {v}\n" for k, v in options.items())
        prompt += "Please select the correct answer from the options above. \n"
    return prompt


def test_the_vlmevalkit_prompt_is_vlmevalkits_byte_for_byte() -> None:
    line = {"question": ITEM.question, "A": ITEM.option_a, "B": ITEM.option_b}
    assert TEMPLATES["vlmevalkit-v2"].render(ITEM) == vlmevalkit_build_prompt(line)


def test_templates_match_their_snapshot() -> None:
    assert {v: t.render(ITEM) for v, t in TEMPLATES.items()} == SNAPSHOT


def test_default_is_the_mmvp_form() -> None:
    assert DEFAULT_TEMPLATE == "mmvp-v1"
    assert all(t.version == v for v, t in TEMPLATES.items())
