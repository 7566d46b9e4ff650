"""Candidate pairs: CLIP search, exact similarities, the DINOv2 filter, the measured recall."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pairs.search import MARGIN, search_pairs
from pairs.search_plan import SearchPlan

CHUNK = 1 << 16
RECALL_SEED = 0


@dataclass(frozen=True)
class Candidates:
    """Pairs ``(a[i], b[i])`` (indices into the tiles, ``a < b``) with both similarities."""

    a: np.ndarray
    b: np.ndarray
    clip: np.ndarray
    dino: np.ndarray

    @classmethod
    def empty(cls) -> Candidates:
        i, f = np.zeros(0, np.int64), np.zeros(0, np.float32)
        return cls(i, i.copy(), f, f.copy())

    def __len__(self) -> int:
        return len(self.a)

    def take(self, keep: np.ndarray) -> Candidates:
        return Candidates(self.a[keep], self.b[keep], self.clip[keep], self.dino[keep])

    @staticmethod
    def concat(parts: list[Candidates]) -> Candidates:
        if not parts:
            return Candidates.empty()
        return Candidates(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ("a", "b", "clip", "dino"))
        )


def rowwise_dot(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x[a[i]] . x[b[i]]`` in float32, computed the same way wherever it is needed."""
    out = np.empty(len(a), dtype=np.float32)
    for s in range(0, len(a), CHUNK):
        out[s : s + CHUNK] = np.einsum("ij,ij->i", x[a[s : s + CHUNK]], x[b[s : s + CHUNK]])
    return out


def _keys(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    return a.astype(np.int64) * n + b.astype(np.int64)


def exact_neighbours(x: np.ndarray, rows: np.ndarray, tau: float) -> np.ndarray:
    """Keys of every pair (row, j) with CLIP >= tau, by brute force (for recall)."""
    n = x.shape[0]
    keys = []
    for s in range(0, len(rows), 256):
        r = rows[s : s + 256]
        i, j = np.nonzero(x[r] @ x.T >= tau - MARGIN)
        i = r[i]
        keep = i != j
        a, b = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
        ok = rowwise_dot(x, a, b) >= np.float32(tau)
        keys.append(_keys(a[ok], b[ok], n))
    return np.unique(np.concatenate(keys)) if keys else np.zeros(0, np.int64)


@dataclass
class SearchResult:
    candidates: Candidates
    recall: float | None
    recall_pairs: int


def find_candidates(
    faiss: Any,
    clip_x: np.ndarray,
    dino_x: np.ndarray,
    queries: np.ndarray,
    plan: SearchPlan,
    *,
    clip_min: float,
    dino_max: float,
    tau_clip: float,
    batch: int,
    recall_sample: int = 0,
    method: str | None = None,
    bar: Any = None,
) -> SearchResult:
    """Pairs with CLIP >= ``clip_min`` and DINOv2 < ``dino_max`` among/with the query tiles."""
    n = clip_x.shape[0]
    sample = np.zeros(n, dtype=bool)
    measure = plan.kind == "ivf" and recall_sample > 0
    if measure:
        qidx = np.flatnonzero(queries)
        rng = np.random.default_rng(RECALL_SEED)
        sample[np.sort(rng.choice(qidx, min(recall_sample, len(qidx)), replace=False))] = True
    found: list[np.ndarray] = []
    parts: list[Candidates] = []
    for a, b in search_pairs(faiss, clip_x, clip_min, queries, plan, batch, method):
        clip = rowwise_dot(clip_x, a, b)
        ok = clip >= np.float32(clip_min)
        a, b, clip = a[ok], b[ok], clip[ok]
        if measure:
            s = (sample[a] | sample[b]) & (clip >= np.float32(tau_clip))
            found.append(_keys(a[s], b[s], n))
        dino = rowwise_dot(dino_x, a, b)
        keep = dino < np.float32(dino_max)
        parts.append(Candidates(a[keep], b[keep], clip[keep], dino[keep]))
        if bar is not None:
            bar.update(1)
    cands = Candidates.concat(parts)
    order = np.lexsort((cands.b, cands.a))
    cands = cands.take(order)
    if not measure:
        return SearchResult(cands, None, 0)
    truth = exact_neighbours(clip_x, np.flatnonzero(sample), tau_clip)
    got = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
    recall = float(np.isin(truth, got).mean()) if truth.size else None
    return SearchResult(cands, recall, int(truth.size))
