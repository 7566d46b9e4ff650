"""Scores: question accuracy, MMVP pair accuracy, per category, with 95% intervals.

Pair accuracy follows MMVP (scripts/gpt_grader.py) and lmms-eval's ``mmvp``
task: items ``2k-1`` and ``2k`` form pair ``k`` (``2k, 2k+1`` in 0-based
files, see :mod:`evaluation.pairing`), and a pair counts only when
both of its questions are answered right. A pair with a missing item (not in
the benchmark or skipped as unreadable) is left out and counted as
``incomplete_pairs``. A failed or unparsed answer counts as wrong.

Intervals are Wilson score intervals at 95% (z = 1.96), which stay inside
[0, 1] and behave at small n and at accuracies near 0 or 1. Pairs are treated
as the independent trials for pair accuracy, questions for question accuracy.

With ``--swap-options`` each question is asked twice (options in the given
order and swapped). The headline metrics still score the given order alone
(MMVP's pair accuracy, chance 25%); ``*_both_orders`` metrics count a question
right only when both answers are right (pair chance about 6.25%), and
``swap_consistency`` is the share of questions whose two parsed answers name
the same option text.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from evaluation.items import BenchItem, other_choice
from evaluation.pairing import pair_start

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Outcome:
    """How one asked question (one variant of one item) ended."""

    parsed: str | None
    correct: bool
    failed: bool = False


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes`` out of ``n`` (None when n = 0)."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def _rate(successes: int, n: int) -> dict[str, Any]:
    return {
        "correct": successes,
        "total": n,
        "accuracy": successes / n if n else None,
        "ci95": list(wilson(successes, n) or ()) or None,
    }


def pair_results(correct_by_index: Mapping[int, bool], base: int = 1) -> dict[int, bool]:
    """First index of a pair -> both right, for every pair whose two items are present.

    ``base`` 1: pairs ``2k-1, 2k`` (MMVP); 0: pairs ``2k, 2k+1`` (see :mod:`evaluation.pairing`).
    """
    out = {}
    for index in correct_by_index:
        if pair_start(index, base) == index and index + 1 in correct_by_index:
            out[index] = correct_by_index[index] and correct_by_index[index + 1]
    return out


def question_correct(
    items: Iterable[BenchItem],
    outcomes: Mapping[tuple[int, str], Outcome],
    variants: tuple[str, ...],
) -> dict[int, bool]:
    """Item index -> right in every variant asked."""
    out = {}
    for it in items:
        got = [outcomes.get((it.index, v)) for v in variants]
        out[it.index] = all(o is not None and o.correct for o in got)
    return out


def _accuracies(correct: Mapping[int, bool], base: int) -> dict[str, Any]:
    pairs = pair_results(correct, base)
    return {
        "question": _rate(sum(correct.values()), len(correct)),
        "pair": _rate(sum(pairs.values()), len(pairs)),
    }


def _per_category(items: list[BenchItem], correct: Mapping[int, bool], base: int) -> dict[str, Any]:
    by_index = {it.index: it for it in items}
    groups: dict[str, list[bool]] = defaultdict(list)
    for first, ok in pair_results(correct, base).items():
        groups[by_index[first].category or "uncategorised"].append(ok)
    return {cat: _rate(sum(v), len(v)) for cat, v in sorted(groups.items())}


def _swap_consistency(
    items: list[BenchItem], outcomes: Mapping[tuple[int, str], Outcome]
) -> dict[str, Any]:
    agree = total = 0
    for it in items:
        first, second = outcomes.get((it.index, "original")), outcomes.get((it.index, "swapped"))
        if first is None or second is None or first.parsed is None or second.parsed is None:
            continue
        total += 1
        agree += second.parsed == other_choice(first.parsed)
    return {"agree": agree, "total": total, "rate": agree / total if total else None}


def compute_scores(
    items: list[BenchItem],
    outcomes: Mapping[tuple[int, str], Outcome],
    variants: tuple[str, ...],
    base: int = 1,
) -> dict[str, Any]:
    """Every metric of one model on ``items`` from the outcomes of each asked variant.

    The headline (``question_accuracy``, ``pair_accuracy``, per category) always
    scores the options in the given order, as MMVP does; with ``swapped`` in
    ``variants`` the both-orders metrics come in their own keys.
    """
    correct = question_correct(items, outcomes, ("original",))
    asked = [outcomes[(it.index, v)] for it in items for v in variants if (it.index, v) in outcomes]
    n_asked = len(items) * len(variants)
    failed = sum(o.failed for o in asked) + (n_asked - len(asked))
    answered = [o for o in asked if not o.failed]
    unparsed = sum(o.parsed is None for o in answered)
    acc = _accuracies(correct, base)
    n_pairs = len(pair_results(correct, base))
    scores: dict[str, Any] = {
        "questions": len(items),
        "pairs": n_pairs,
        "incomplete_pairs": len({pair_start(it.index, base) for it in items}) - n_pairs,
        "index_base": base,
        "question_accuracy": acc["question"],
        "pair_accuracy": acc["pair"],
        "pair_accuracy_by_category": _per_category(items, correct, base),
        "asked": n_asked,
        "answered": len(answered),
        "failed": failed,
        "unparsed": unparsed,
        "unparsed_rate": unparsed / len(answered) if answered else None,
        "complete": failed == 0,
    }
    if "swapped" in variants:
        both = _accuracies(question_correct(items, outcomes, variants), base)
        scores["question_accuracy_both_orders"] = both["question"]
        scores["pair_accuracy_both_orders"] = both["pair"]
        scores["swap_consistency"] = _swap_consistency(items, outcomes)
    return scores
