"""bfloat16 CLIP rows for the search, where this CPU multiplies them fast.

On CPUs with bfloat16 dot-product instructions (AVX512-BF16 or AMX: AMD Zen 4,
Intel Cooper Lake, Sapphire Rapids and later) torch's bfloat16 matrix products
run 2-3x faster than float32 ones (oneDNN); elsewhere they are emulated and far
slower. So above :data:`pairs.inputs.HOLD_FLOAT32_MAX` tiles the mine stage
holds the CLIP rows as bfloat16 where :func:`enabled` (torch reports the
instructions; ``BLINDPAIRS_BF16=0`` or ``=1`` decides instead), and as float16
otherwise. NumPy has no bfloat16: the rows are held as their bits (uint16,
:data:`pairs.widen.BF16_BITS`), rounded to nearest even by :func:`narrow`.

The search on bfloat16 rows is widened by :data:`SLACK` (the most rounding can
move a product), and the similarities of the pairs it finds are recomputed from
the exact float32 rows, so the results are those of a float32 search.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from pairs.widen import BF16_BITS, gather, torch_one_thread, widen

ENV = "BLINDPAIRS_BF16"
# |bf(x).bf(y) - x.y| <= (2u + u^2) |x||y| for unit rows rounded to bfloat16 (u = 2**-8,
# 8 significant bits: 0.0079), plus the product's own rounding to bfloat16 (half an ulp
# below 1: 2**-9) and float32 accumulation (768 * 2**-24).
SLACK = 1e-2


@functools.cache
def enabled() -> bool:
    """Whether large searches hold bfloat16 rows: when the CPU has bfloat16 dot-product
    instructions (``torch.cpu.get_capabilities``); :data:`ENV` overrides."""
    choice = os.environ.get(ENV, "").strip()
    if choice in ("0", "1"):
        return choice == "1"
    import torch

    caps = getattr(torch.cpu, "get_capabilities", dict)()
    return any(value is True and name.endswith("bf16") for name, value in caps.items())


def held_dtype() -> np.dtype:
    """The dtype of held CLIP rows above the float32 limit: bfloat16 bits or float16."""
    return BF16_BITS if enabled() else np.dtype(np.float16)


def narrow(x: np.ndarray) -> np.ndarray:
    """float32 rows as bfloat16 bits, rounded to nearest even (torch, ~10x NumPy's speed;
    one torch thread, as the parts' reader threads call it side by side)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not x.flags.writeable:  # torch wants writable arrays
        x = x.copy()
    with torch_one_thread() as torch:
        bits = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy()
    return bits.view(BF16_BITS)


def like(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """float32 ``x`` in the form :func:`products` takes with ``rows``: bfloat16 bits
    when ``rows`` are, float32 otherwise."""
    return narrow(x) if rows.dtype == BF16_BITS else np.asarray(x, dtype=np.float32)


def operand(x: np.ndarray) -> np.ndarray:
    """``x`` ready for several :func:`products`: bfloat16 bits as they are, any other
    rows widened to float32 once."""
    return x if x.dtype == BF16_BITS else widen(x)


def take(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``x[rows]`` for :func:`products`: float32 (float16 widened), or bfloat16 bits
    with zero rows added up to :func:`bucket` rows (slice the product to ``len(rows)``)."""
    if x.dtype != BF16_BITS:
        return gather(x, rows)
    out = np.empty((bucket(len(rows)), x.shape[1]), dtype=BF16_BITS)
    np.take(x, rows, axis=0, out=out[: len(rows)])
    out[len(rows) :] = 0
    return out


def bucket(n: int) -> int:
    """``n`` rounded up to one of few sizes: a multiple of 16, then of 1/8 of its octave
    (at most 12.5% more)."""
    step = max(16, 1 << max(0, n.bit_length() - 4))
    return -(-n // step) * step


def pow2_rows(n: int) -> int:
    """The largest power of two up to ``n`` (at least 1): a block size that is a whole
    :func:`bucket`."""
    return 1 << (max(1, n).bit_length() - 1)


def _tensor(torch: object, x: np.ndarray) -> object:
    """The bfloat16 bits ``x`` as a tensor of :func:`bucket` rows (zero rows added)."""
    rows = bucket(len(x))
    if rows == len(x) and x.flags.c_contiguous and x.flags.writeable:
        return torch.from_numpy(x).view(torch.bfloat16)  # type: ignore[attr-defined]
    out = np.zeros((rows, x.shape[1]), dtype=BF16_BITS)
    out[: len(x)] = x
    return torch.from_numpy(out).view(torch.bfloat16)  # type: ignore[attr-defined]


def products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T`` as float32: in bfloat16 (torch) when both are bfloat16 bits, within
    :data:`SLACK` of the float32 product of the rows they round; else in float32.

    bfloat16 operands are padded to :func:`bucket` rows (a copy, unless :func:`take`
    made them so): oneDNN compiles a kernel for each new shape (IVF lists all differ),
    which doubled the time of a product and kept ~0.8 MB of memory per shape."""
    if a.dtype == BF16_BITS and b.dtype == BF16_BITS:
        import torch

        out = _tensor(torch, a) @ _tensor(torch, b).T
        return out[: len(a), : len(b)].float().numpy()
    return widen(a) @ widen(b).T
