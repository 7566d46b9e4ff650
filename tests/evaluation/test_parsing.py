"""The answer-parsing cascade, rule by rule, and what it refuses to guess."""

from __future__ import annotations

import pytest

from evaluation.items import BenchItem
from evaluation.parsing import parse_answer

ITEM = BenchItem(1, b"", "Is the door open?", "yes", "no", "a")
TANK = BenchItem(1, b"", "What is next to the road?", "a storage tank", "a tank farm", "a")


@pytest.mark.parametrize(
    ("reply", "choice", "rule"),
    [
        ("a", "a", "bare"),
        ("(B)", "b", "bare"),
        ("A.", "a", "bare"),
        (" b) ", "b", "bare"),
        ("(a) yes, it is", "a", "leading"),
        ("B. no", "b", "leading"),
        ("The answer is (b).", "b", "phrase"),
        ("Answer: A", "a", "phrase"),
        ("I'd pick option B, clearly.", "b", "phrase"),
        ("Looking closely, (a) fits best", "a", "bracketed"),
        ("Yes, the door is open.", "a", "option_text"),
        ("no", "b", "option_text"),
    ],
)
def test_each_rule(reply: str, choice: str, rule: str) -> None:
    assert parse_answer(reply, ITEM) == (choice, rule)


@pytest.mark.parametrize(
    "reply",
    [
        None,
        "",
        "The answer is a dog",  # an article, not a choice
        "(a) or (b), hard to say",
        "Not sure",  # "no" inside a word does not count
        "yes and no",
        "The answer is (a). No wait, the answer is (b).",
    ],
)
def test_ambiguous_replies_stay_unparsed(reply: str | None) -> None:
    assert parse_answer(reply, ITEM) == (None, None)


def test_option_text_when_one_option_contains_words_of_the_other() -> None:
    assert parse_answer("I see a storage tank.", TANK) == ("a", "option_text")
    assert parse_answer("It is a tank farm", TANK) == ("b", "option_text")


def test_letters_follow_the_options_shown() -> None:
    swapped = ITEM.swapped()
    assert parse_answer("yes", swapped) == ("b", "option_text")
    assert swapped.answer == "b"
