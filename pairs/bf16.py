"""bfloat16 matrix products for the IVF scoring, where this CPU multiplies them fast.

On CPUs with bfloat16 dot-product instructions (AVX512-BF16 or AMX: AMD Zen 4,
Intel Cooper Lake, Sapphire Rapids and later) torch's bfloat16 matrix products
(oneDNN) run faster than float32 ones; elsewhere they are emulated and far slower.
So when the held CLIP rows are float16 (above :data:`pairs.inputs.HOLD_FLOAT32_MAX`
tiles) and :func:`enabled`, the scoring of each IVF list multiplies them as bfloat16
and keeps the products within :data:`SLACK` of the radius; those few are then checked
on the float32 dot of the same float16 rows (:func:`pairs.pairset.rowwise_dot`). That
dot and a float32 matrix product differ by float32 rounding only (< 1e-5, the
search's margin), and every unit checks its pairs again on the same dot, so the
stage's candidates are the same with or without bfloat16. Only products change: the
held rows, the probes and every similarity written are the same on every CPU.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from pairs.pairset import rowwise_dot
from pairs.widen import gather, torch_one_thread

ENV = "BLINDPAIRS_BF16"
# How far a bfloat16 product of two float16 unit rows may lie from their float32 product:
# each component rounded to 8 significant bits (u = 2**-8) moves the product by at most
# (2u + u^2) = 0.0079 (Cauchy-Schwarz), the product's own rounding to bfloat16 by half an
# ulp below 1 (2**-9 = 0.0020), float32 accumulation of 768-4096 terms by < 3e-4.
SLACK = 1.25e-2
CHUNK_ROWS = 512  # rows multiplied against the fixed ones at a time (as fast as whole lists)
CHUNK_STEP = 128


@functools.cache
def enabled() -> bool:
    """Whether float16 rows are scored with bfloat16 products: when the CPU has bfloat16
    dot-product instructions (``torch.cpu.get_capabilities``); :data:`ENV` set to ``0``
    or ``1`` decides instead."""
    choice = os.environ.get(ENV, "").strip()
    if choice in ("0", "1"):
        return choice == "1"
    import torch

    caps = getattr(torch.cpu, "get_capabilities", dict)()
    return any(value is True and name.endswith("bf16") for name, value in caps.items())


def usable(x: np.ndarray) -> bool:
    """Whether the products over the rows ``x`` are taken in bfloat16: float16 rows
    (float32 rows, small runs, keep float32 products) and :func:`enabled`."""
    return x.dtype == np.float16 and x.ndim == 2 and enabled()


def bucket(n: int) -> int:
    """``n`` rounded up to one of few sizes: a multiple of 16, then of 1/8 of its octave
    (at most 12.5% more). oneDNN builds a kernel for each new shape (IVF lists all
    differ) and keeps it (~0.75 MB a shape, up to 1024 of them): unpadded shapes
    doubled the time of a product, and bucketed ones on both sides still grew the 1M
    bench's peak by ~350 MB, hence :class:`Scorer`'s chunks."""
    step = max(16, 1 << max(0, n.bit_length() - 4))
    return -(-n // step) * step


def floor_bits(value: float) -> int | None:
    """The int16 bits of the largest bfloat16 <= ``value`` (its float32 bits, truncated),
    or None when ``value`` is not positive."""
    if not value > 0:
        return None
    return int(np.array(value, dtype=np.float32).view(np.uint32)) >> 16


def take(torch: Any, x: np.ndarray, rows: np.ndarray, size: int) -> Any:
    """The float16 rows ``x[rows]`` as a bfloat16 tensor of ``size`` rows (the padding
    repeats the first row; slice products to ``len(rows)``)."""
    pad = size - len(rows)
    index = np.concatenate([rows, np.full(pad, rows[0], dtype=rows.dtype)]) if pad else rows
    # through float32 (gather): torch's float16 -> bfloat16 cast is ~5x slower than both
    return torch.from_numpy(gather(x, index)).to(torch.bfloat16)


class Scorer:
    """Pairs of float16 rows of ``x`` reaching a radius: any rows against the fixed rows
    ``x[fixed]`` (converted to bfloat16 once), from bfloat16 products within
    :data:`SLACK` of the radius, checked on the float32 products of the same rows.

    Products have few shapes: the fixed rows padded to a :func:`bucket`, the others
    multiplied :data:`CHUNK_ROWS` at a time (the last chunk padded to a multiple of
    :data:`CHUNK_STEP`)."""

    def __init__(self, x: np.ndarray, fixed: np.ndarray) -> None:
        self.x, self.fixed = x, fixed
        with torch_one_thread() as torch:
            self.right = take(torch, x, fixed, bucket(len(fixed))).T

    def hits(self, rows: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
        """``(r, c)``: positions in ``rows`` and in the fixed rows of the pairs whose
        float32 product reaches ``radius``, in row-major order (one torch thread)."""
        found = []
        low = floor_bits(radius - SLACK)
        with torch_one_thread() as torch:
            for s in range(0, len(rows), CHUNK_ROWS):
                part = rows[s : s + CHUNK_ROWS]
                size = -(-len(part) // CHUNK_STEP) * CHUNK_STEP
                sims = take(torch, self.x, part, size) @ self.right
                found.append(self._reaching(torch, sims, low, radius - SLACK) + s * sims.shape[1])
        width = self.right.shape[1]
        flat = np.concatenate(found) if found else np.zeros(0, np.int64)
        r, c = flat // width, flat % width
        keep = (r < len(rows)) & (c < len(self.fixed))  # not the padding's repeated rows
        r, c = r[keep], c[keep]
        ok = rowwise_dot(self.x, rows[r], self.fixed[c]) >= np.float32(radius)
        return r[ok], c[ok]

    @staticmethod
    def _reaching(torch: Any, sims: Any, low: int | None, floor: float) -> np.ndarray:
        """Flat positions in the bfloat16 products ``sims`` of those >= ``floor``.

        A positive ``floor`` is compared on the bits (``low``, :func:`floor_bits`: a few
        products just under ``floor`` may pass, never one above is lost): positive bfloat16
        values order as their int16 bits, negative ones are negative int16, and NumPy's
        compare and ``flatnonzero`` take ~1/10 of torch's compare and ``nonzero``. Other
        floors are compared in float32 (not on ``floor`` rounded to bfloat16)."""
        if low is None:
            return torch.nonzero(sims.flatten().float() >= floor).flatten().numpy()
        return np.flatnonzero(sims.view(torch.int16).numpy() >= low)
