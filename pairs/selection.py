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
class Pinned:
    """A pair exported for annotation: it stays, with its id and (when known) its rank."""

    pair_id: str
    tile_a: str
    tile_b: str
    rank: int | None


def greedy_select(
    ordered: list[tuple[str, str, str]],
    pinned: list[Pinned],
    cap: int,
    budget: int | None,
) -> list[str]:
    """Pair ids taken greedily from ``ordered`` (pair_id, a, b), best first.

    Pinned pairs are kept whatever the cap and budget and count towards both;
    every other pair competes by rank for what is left. Returns the taken ids
    (pinned ones excluded) in the order taken.
    """
    use: Counter[str] = Counter()
    for f in pinned:
        use[f.tile_a] += 1
        use[f.tile_b] += 1
    room = None if budget is None else max(0, budget - len(pinned))
    taken: list[str] = []
    seen = {f.pair_id for f in pinned}
    for pid, a, b in ordered:
        if room is not None and len(taken) >= room:
            break
        if pid in seen or use[a] >= cap or use[b] >= cap:
            continue
        taken.append(pid)
        seen.add(pid)
        use[a] += 1
        use[b] += 1
    return taken


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
