"""Scores checked by hand and against the MMVP and lmms-eval definitions."""

from __future__ import annotations

import pytest

from evaluation.items import BenchItem
from evaluation.metrics import Outcome, compute_scores, pair_results, wilson


def items(n: int, categories: dict[int, str] | None = None) -> list[BenchItem]:
    categories = categories or {}
    return [
        BenchItem(i, b"", "q", "x", "y", "a", category=categories.get((i + 1) // 2, "c"))
        for i in range(1, n + 1)
    ]


def outcomes(right: list[bool], variant: str = "original") -> dict:
    return {(i + 1, variant): Outcome("a" if ok else "b", ok) for i, ok in enumerate(right)}


def mmvp_gpt_grader_pairs(right: list[bool]) -> float:
    """The loop of MMVP's scripts/gpt_grader.py: consecutive lines, both right."""
    num_correct = num_total = index = round_correct = 0
    for ok in right:
        index += 1
        round_correct += ok
        if index == 2:
            index = 0
            num_correct += round_correct == 2
            round_correct = 0
            num_total += 1
    return num_correct / num_total


def lmms_eval_pairs(right_by_index: dict[int, bool]) -> float:
    """lmms-eval's mmvp_aggregate_pair_results: pair (index-1)//2, complete pairs only."""
    pairs: dict[int, list[bool]] = {}
    for index, ok in right_by_index.items():
        pairs.setdefault((index - 1) // 2, []).append(ok)
    full = [v for v in pairs.values() if len(v) == 2]
    return sum(all(v) for v in full) / len(full)


# answers of 5 pairs: pair 1 both right, 2 one wrong, 3 both wrong, 4 both right, 5 first wrong
RIGHT = [True, True, True, False, False, False, True, True, False, True]


def test_hand_computed_pair_accuracy() -> None:
    s = compute_scores(items(10), outcomes(RIGHT), ("original",))
    assert s["question_accuracy"]["correct"] == 6 and s["question_accuracy"]["accuracy"] == 0.6
    assert s["pair_accuracy"]["correct"] == 2 and s["pair_accuracy"]["total"] == 5
    assert s["pair_accuracy"]["accuracy"] == pytest.approx(0.4)
    assert s["pair_accuracy"]["accuracy"] == pytest.approx(mmvp_gpt_grader_pairs(RIGHT))
    by_index = {i + 1: ok for i, ok in enumerate(RIGHT)}
    assert s["pair_accuracy"]["accuracy"] == pytest.approx(lmms_eval_pairs(by_index))


def test_a_missing_item_leaves_its_pair_out_like_lmms_eval() -> None:
    subset = [it for it in items(10) if it.index != 4]  # pair 2 incomplete
    outs = {k: v for k, v in outcomes(RIGHT).items() if k[0] != 4}
    s = compute_scores(subset, outs, ("original",))
    assert s["pairs"] == 4 and s["incomplete_pairs"] == 1
    by_index = {i + 1: ok for i, ok in enumerate(RIGHT) if i + 1 != 4}
    assert s["pair_accuracy"]["accuracy"] == pytest.approx(lmms_eval_pairs(by_index)) == 0.5
    assert pair_results({1: True, 2: True, 3: True}) == {1: True}


def test_per_category_pair_accuracy() -> None:
    cats = {1: "color", 2: "color", 3: "count", 4: "count", 5: "count"}
    s = compute_scores(items(10, cats), outcomes(RIGHT), ("original",))
    by_cat = s["pair_accuracy_by_category"]
    assert (by_cat["color"]["correct"], by_cat["color"]["total"]) == (1, 2)
    assert (by_cat["count"]["correct"], by_cat["count"]["total"]) == (1, 3)


def test_failed_and_unparsed_count_as_wrong_and_are_counted() -> None:
    outs = outcomes([True, True, True, True])
    outs[(2, "original")] = Outcome(None, False)
    outs[(3, "original")] = Outcome(None, False, failed=True)
    s = compute_scores(items(4), outs, ("original",))
    assert s["question_accuracy"]["correct"] == 2 and s["pair_accuracy"]["correct"] == 0
    assert s["unparsed"] == 1 and s["unparsed_rate"] == pytest.approx(1 / 3)
    assert s["failed"] == 1 and s["complete"] is False


def test_swap_needs_both_orders_right_in_its_own_metric() -> None:
    outs = outcomes([True, True, True, True])
    # item 1: right first, wrong when swapped (picked the same letter, not the same option)
    swapped = {(i, "swapped"): Outcome("b", True) for i in range(1, 5)}
    swapped[(1, "swapped")] = Outcome("a", False)
    s = compute_scores(items(4), {**outs, **swapped}, ("original", "swapped"))
    assert s["question_accuracy_both_orders"]["correct"] == 3
    assert s["pair_accuracy_both_orders"]["correct"] == 1
    # the headline is MMVP's pair accuracy on the options as given, swap or not
    assert s["question_accuracy"]["correct"] == 4 and s["pair_accuracy"]["correct"] == 2
    assert s["swap_consistency"] == {"agree": 3, "total": 4, "rate": 0.75}


def test_wilson_interval() -> None:
    low, high = wilson(2, 5)
    assert (round(low, 4), round(high, 4)) == (0.1176, 0.7693)  # textbook values
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    assert wilson(0, 0) is None
