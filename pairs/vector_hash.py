"""A 64-bit fingerprint of each embedding vector's exact bits (to spot re-embedded tiles)."""

from __future__ import annotations

import hashlib

import numpy as np

_SEED = b"blindpairs vector hash v1"
_CHUNK_ELEMS = 1 << 16  # rows x dim per step (512 KiB of uint64, in cache)


def _weights(dim: int) -> np.ndarray:
    """Odd 64-bit multipliers, one per component, the same on every machine and version."""
    raw = hashlib.shake_256(_SEED).digest(8 * dim)
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64) | np.uint64(1)


def row_hashes(x: np.ndarray) -> np.ndarray:
    """``sum_j bits(x[i, j]) * w_j mod 2**64`` for each row of the float32 matrix ``x``.

    Any change of one component changes the hash (the multipliers are odd);
    unrelated vectors collide with probability about 2**-64.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    n, dim = x.shape
    w = _weights(dim)
    bits = x.view(np.uint32)
    out = np.empty(n, dtype=np.uint64)
    step = max(1, _CHUNK_ELEMS // max(dim, 1))
    buf = np.empty((min(n, step), dim), dtype=np.uint64)  # reused: stays in cache
    with np.errstate(over="ignore"):
        for s in range(0, n, step):
            block = buf[: len(bits[s : s + step])]
            block[...] = bits[s : s + step]
            np.multiply(block, w, out=block)
            block.sum(axis=1, dtype=np.uint64, out=out[s : s + step])
    return out
