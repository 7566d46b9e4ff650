"""Pair ids, ranking, and the greedy selection under a per-tile cap and a budget."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def pair_id(tile_a: str, tile_b: str) -> str:
    """Stable, order-free id of a pair: sha1 of the two sorted tile ids, 16 hex digits."""
    first, second = sorted((tile_a, tile_b))
    return hashlib.sha1(f"{first}\x00{second}".encode()).hexdigest()[:16]


# rank_by -> score where smaller ranks first
RANKERS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "gap": lambda clip, dino: -(clip - dino),
    "dino_sim": lambda clip, dino: dino,
}


def rank_order(clip: np.ndarray, dino: np.ndarray, ids: list[str], rank_by: str) -> np.ndarray:
    """Indices in rank order; ties broken by pair id so the order is deterministic."""
    score = RANKERS[rank_by](clip.astype(np.float64), dino.astype(np.float64))
    return np.lexsort((np.asarray(ids, dtype=object).astype(str), score))


@dataclass(frozen=True)
class Fixed:
    """A pair that stays: exported for annotation (pinned) or chosen by an earlier run."""

    pair_id: str
    tile_a: str
    tile_b: str
    rank: int | None
    pinned: bool


def greedy_select(
    ordered: list[tuple[str, str, str]],
    fixed: list[Fixed],
    cap: int,
    budget: int | None,
) -> tuple[list[Fixed], list[str]]:
    """Keep ``fixed`` pairs, then take ``ordered`` (pair_id, a, b) pairs greedily.

    Pinned pairs always stay; earlier choices stay while they fit the cap and
    the budget. Returns the kept fixed pairs (in rank order) and the new pair
    ids in the order taken.
    """
    use: Counter[str] = Counter()
    kept: list[Fixed] = []
    order = sorted(fixed, key=lambda f: (not f.pinned, f.rank is None, f.rank or 0, f.pair_id))
    for f in order:
        fits = use[f.tile_a] < cap and use[f.tile_b] < cap
        room = budget is None or len(kept) < budget
        if f.pinned or (fits and room):
            kept.append(f)
            use[f.tile_a] += 1
            use[f.tile_b] += 1
    taken: list[str] = []
    seen = {f.pair_id for f in kept}
    for pid, a, b in ordered:
        if budget is not None and len(kept) + len(taken) >= budget:
            break
        if pid in seen or use[a] >= cap or use[b] >= cap:
            continue
        taken.append(pid)
        seen.add(pid)
        use[a] += 1
        use[b] += 1
    kept.sort(key=lambda f: (f.rank is None, f.rank or 0, f.pair_id))
    return kept, taken


def capped_count(a: np.ndarray, b: np.ndarray, cap: int) -> int:
    """How many of the (already ranked) pairs a greedy per-tile cap keeps."""
    use: Counter[int] = Counter()
    n = 0
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        if use[x] < cap and use[y] < cap:
            use[x] += 1
            use[y] += 1
            n += 1
    return n
