"""A set of candidate pairs (tile indices and both similarities) and the exact dot product."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pairs.widen import gather

CHUNK = 8192  # pairs a block: two 32 MiB gathers of 1024-d float32 rows


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
    """``x[a[i]] . x[b[i]]`` in float32, computed the same way wherever it is needed
    (float16 rows are widened to float32 first)."""
    out = np.empty(len(a), dtype=np.float32)
    for s in range(0, len(a), CHUNK):
        xa = gather(x, a[s : s + CHUNK])
        xb = gather(x, b[s : s + CHUNK])
        out[s : s + CHUNK] = np.einsum("ij,ij->i", xa, xb)
    return out


def pair_keys(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """One int64 per pair of tile indices (``a * n + b``)."""
    return a.astype(np.int64) * n + b.astype(np.int64)
