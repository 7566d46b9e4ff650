"""The same replies scored under each --scoring profile, with the documented differences."""

from __future__ import annotations

import pytest

from evaluation.items import BenchItem
from evaluation.scoring import PROFILES, get_profile

ITEM = BenchItem(1, b"", "Is the roof red or blue?", "Red", "Blue", "b")

# reply -> choice under (blindpairs, lmms-eval, vlmevalkit); None = unparsed (wrong)
CASES: dict[str, tuple[str | None, str | None, str | None]] = {
    "B": ("b", "b", "b"),
    # VLMEvalKit: "(a)" becomes the token "a", and only upper-case tokens are letters
    "(a)": ("a", "a", None),
    # lmms-eval: no regex matches, so the first character decides: "A"nswer
    "Answer: **B**": ("b", "a", "b"),
    # lower-case letters: VLMEvalKit's can_infer_option is case-sensitive
    "b": ("b", "b", None),
    # the article "a": lmms-eval's "letter at start" regex takes it, VLMEvalKit does not
    "a blue roof": (None, "a", "b"),
    # option text as the whole reply: lmms-eval has no text matching, first char fallback
    "Blue": ("b", "b", "b"),
    "Red.": ("a", None, "a"),
    # option text inside a longer reply: only VLMEvalKit's substring matching reads it
    "The roof is not red": (None, None, "a"),
    # a letter then an explanation naming the other option
    "B\n\nThe roof is not red.": ("b", "b", "b"),
    # both letters: VLMEvalKit falls back to text, lmms-eval takes the first match
    "A or B, hard to say": (None, "a", None),
    # refusals
    "Cannot determine the answer": (None, None, None),
    "There is no way to tell": (None, None, None),
}


@pytest.mark.parametrize("reply", list(CASES))
def test_profiles_differ_as_documented(reply: str) -> None:
    got = tuple(PROFILES[name].parse(reply, ITEM)[0] for name in PROFILES)
    assert tuple(PROFILES) == ("blindpairs", "lmms-eval", "vlmevalkit")
    assert got == CASES[reply]


def test_same_replies_give_different_question_accuracy() -> None:
    right = {
        name: sum(PROFILES[name].parse(r, ITEM)[0] == ITEM.answer for r in CASES)
        for name in PROFILES
    }
    assert right == {"blindpairs": 5, "lmms-eval": 4, "vlmevalkit": 5}


def test_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="blindpairs, lmms-eval, vlmevalkit"):
        get_profile("mmbench")
