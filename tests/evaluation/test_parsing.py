"""The answer-parsing cascade, rule by rule, and what it refuses to guess."""

from __future__ import annotations

import pytest

from evaluation.items import BenchItem
from evaluation.parsing import CASCADE, PARSER_VERSION, parse_answer

ITEM = BenchItem(1, b"", "Is the door open?", "yes", "no", "a")
TANK = BenchItem(1, b"", "What is next to the road?", "a storage tank", "a tank farm", "a")


WINGS = BenchItem(1, b"", "Are the wings open or closed?", "Open", "Closed", "b")


@pytest.mark.parametrize(
    ("reply", "choice", "rule"),
    [
        ("a", "a", "bare"),
        ("(B)", "b", "bare"),
        ("A.", "a", "bare"),
        (" b) ", "b", "bare"),
        ("The answer is (b).", "b", "bare"),  # "The answer is" is read past first
        ("Answer: A", "a", "bare"),
        ("(a) yes, it is", "a", "leading"),
        ("B. no", "b", "leading"),
        ("I'd pick option B, clearly.", "b", "phrase"),
        ("Looking closely, (a) fits best", "a", "bracketed"),
        ("no", "b", "option_text"),
        ("Yes.", "a", "option_text"),
    ],
)
def test_each_rule(reply: str, choice: str, rule: str) -> None:
    assert parse_answer(reply, ITEM) == (choice, rule)


@pytest.mark.parametrize(
    ("reply", "choice"),
    [
        # a letter followed by an explanation (issue 11: unparsed or inverted before v2)
        ("A\n\nThe image shows the wings spread wide.", "a"),
        ("B because the wings touch.", "b"),
        ("A - the wings are spread.", "a"),
        ("B\n\nThe wings are folded, not open.", "b"),  # was (a): "open" in the text
        # a leading letter in any case and dress wins over option text
        ("b", "b"),
        ("(b)", "b"),
        ("b)", "b"),
        ("B.", "b"),
        ("**B**", "b"),
        ("Answer: **B**", "b"),
        ("**B.** Open is wrong here.", "b"),
        ("b) closed, not open", "b"),
        # the other letter named later, not as the options repeated back (v3)
        ("A. Open. Not (b) closed.", "a"),
        ("A. Although (b) might seem right, open", "a"),
        ("B. Closed, though (a) is tempting", "b"),
        ("B—closed", "b"),  # an em dash without spaces
        ("A\u2013open", "a"),  # an en dash
    ],
)
def test_a_leading_letter_wins(reply: str, choice: str) -> None:
    assert parse_answer(reply, WINGS)[0] == choice


@pytest.mark.parametrize(
    "reply",
    [
        None,
        "",
        "The answer is a dog",  # an article, not a choice
        "A tank farm, I think",  # the article again
        "(a) or (b), hard to say",
        "Not sure",
        "yes and no",
        "The answer is (a). No wait, the answer is (b).",
        "There is no way to tell",  # refusals containing "no" are not the option "No"
        "No idea",
        "Yes, the door is open.",  # option text counts only as the whole reply
    ],
)
def test_ambiguous_replies_stay_unparsed(reply: str | None) -> None:
    assert parse_answer(reply, ITEM) == (None, None)


@pytest.mark.parametrize(
    "reply",
    [
        "a) Open b) Closed",
        "(a) Open (b) Closed",
        "A. Open\nB. Closed",
        "A: Open, B: Closed",
        "(b) Closed\n(a) Open",
        "a) open / b) closed",
    ],
)
def test_options_repeated_back_are_unparsed(reply: str) -> None:
    assert parse_answer(reply, WINGS) == (None, None)


def test_the_cascade_is_versioned() -> None:
    assert PARSER_VERSION == "blindpairs-v3"
    assert [name for name, _ in CASCADE] == [
        "bare",
        "leading",
        "phrase",
        "bracketed",
        "option_text",
    ]


def test_option_text_is_the_whole_reply() -> None:
    assert parse_answer("A storage tank.", TANK) == ("a", "option_text")
    assert parse_answer("  a tank farm! ", TANK) == ("b", "option_text")
    assert parse_answer("I see a storage tank.", TANK) == (None, None)


def test_letters_follow_the_options_shown() -> None:
    swapped = ITEM.swapped()
    assert parse_answer("yes", swapped) == ("b", "option_text")
    assert swapped.answer == "b"
