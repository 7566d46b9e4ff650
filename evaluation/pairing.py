"""Which items form MMVP pairs: the index base, and a check that each pair belongs together.

MMVP numbers its items from 1 and pairs ``2k-1, 2k``; files made by other
tools often number from 0 (pairs ``2k, 2k+1``). Pairing a 0-based file the
1-based way silently joins items of two different pairs, so the base is
detected (the parity of the smallest index, or the other base when only that
one gives consistent pairs) and every complete pair is checked: both items must
have the same ``pair_id`` or, in files without pair ids, the same question
(case and spacing ignored). A file where neither base gives consistent pairs
fails with the first mismatched pairs named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from blindpairs.errors import InputError
from evaluation.items import BenchItem

SHOWN_MISMATCHES = 3


@dataclass(frozen=True)
class Pairing:
    """The index base and the pairs as ``(first index, second index)``, in order."""

    base: int
    pairs: tuple[tuple[int, int], ...]


def pair_start(index: int, base: int) -> int:
    """The first index of the pair ``index`` belongs to."""
    return index - ((index - base) % 2)


def _key(item: BenchItem) -> tuple[str, str]:
    if item.pair_id:
        return ("pair_id", item.pair_id)
    return ("question", " ".join(item.question.lower().split()).rstrip("?.! "))


def _pairs(items: Sequence[BenchItem], base: int) -> tuple[tuple[int, int], ...]:
    starts = sorted({pair_start(it.index, base) for it in items})
    return tuple((s, s + 1) for s in starts)


def mismatches(items: Sequence[BenchItem], base: int) -> list[str]:
    """Descriptions of the complete pairs whose two items do not belong together."""
    by_index = {it.index: it for it in items}
    out = []
    for first, second in _pairs(items, base):
        a, b = by_index.get(first), by_index.get(second)
        if a is None or b is None:
            continue
        ka, kb = _key(a), _key(b)
        if ka[0] != kb[0] or ka[1] != kb[1]:
            what = "pair ids" if a.pair_id or b.pair_id else "questions"
            out.append(f"items {first} and {second} have different {what} ({ka[1]!r} vs {kb[1]!r})")
    return out


def detect_pairing(items: Sequence[BenchItem], source: str) -> Pairing:
    """The pairing of ``items``; raise InputError when no index base pairs them consistently."""
    if not items:
        return Pairing(1, ())
    guess = 0 if min(it.index for it in items) % 2 == 0 else 1
    found = {}
    for base in (guess, 1 - guess):
        found[base] = mismatches(items, base)
        if not found[base]:
            return Pairing(base, _pairs(items, base))
    shown = "; ".join(found[guess][:SHOWN_MISMATCHES])
    raise InputError(
        source,
        f"items are not in MMVP pairs: with {guess}-based indexes (pairs "
        f"{guess}+2k, {guess + 1}+2k) {len(found[guess])} pair(s) mix two questions, e.g. "
        f"{shown}; and {1 - guess}-based indexes do no better. Each pair's two items need "
        "consecutive indexes and the same pair_id (or question)",
    )
