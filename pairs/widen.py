"""float16 rows widened to float32 (and gathered), and float32 rows narrowed to float16,
with torch, whose conversions are vectorised.

NumPy's float16 <-> float32 casts run element by element (~2 ns an element on
this CPU, ~10x torch's); both libraries convert the same way (widening is exact,
narrowing rounds to nearest even), so the results are the same. torch is
imported only when float16 rows are converted: runs that hold float32
rows (up to :data:`pairs.inputs.HOLD_FLOAT32_MAX` tiles) and a run with nothing
to do never import it. torch runs these with one intra-op thread (restored
afterwards): its thread team costs ~40x more than the conversion of one IVF
list's rows on a loaded 2-core machine (16 ms instead of 0.35 ms for 977 x 768).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np


@contextmanager
def torch_one_thread() -> Iterator[Any]:
    """torch, with one intra-op thread in the calling thread while inside (restored after).

    torch's OpenMP thread count is per calling thread: each thread of a pool sets and
    restores its own, so threads never undo each other's setting."""
    import torch

    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield torch
    finally:
        if before != 1:
            torch.set_num_threads(before)


def widen(x: np.ndarray) -> np.ndarray:
    """``x`` as float32: itself when it is float32, a torch-widened copy when float16."""
    if x.dtype == np.float32:
        return x
    if x.dtype != np.float16 or not x.flags.writeable:  # torch wants writable arrays
        return np.asarray(x, dtype=np.float32)
    with torch_one_thread() as torch:
        return torch.from_numpy(np.ascontiguousarray(x)).float().numpy()


def gather(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``x[rows]`` as float32 (rows of a 2-d array, any order, repeats allowed)."""
    if x.dtype != np.float16 or x.ndim != 2 or not (x.flags.c_contiguous and x.flags.writeable):
        return widen(x[rows])
    with torch_one_thread() as torch:
        index = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.int64))
        return torch.from_numpy(x).index_select(0, index).float().numpy()


def narrow_into(dest: np.ndarray, rows: np.ndarray) -> None:
    """``dest[...] = rows``: float32 rows into a float16 array (``dest`` may be a view).

    torch narrows vectorised (~0.15 s per 1M x 768 rows on this CPU against ~2 s for
    NumPy, which goes element by element); both round to nearest even, so the bits are
    the same. Other types, or arrays torch cannot share, are left to NumPy."""
    if not (
        dest.dtype == np.float16
        and rows.dtype == np.float32
        and dest.shape == rows.shape
        and dest.flags.c_contiguous
        and dest.flags.writeable
    ):
        dest[...] = rows
        return
    _quiet_read_only()
    with torch_one_thread() as torch:
        torch.from_numpy(dest).copy_(torch.from_numpy(np.ascontiguousarray(rows)))


@functools.cache
def _quiet_read_only() -> None:
    """Silence torch's warning that a NumPy array it wraps is read-only, for this module's
    calls only: :func:`narrow_into` only reads its (often read-only, Arrow-backed) rows."""
    warnings.filterwarnings(
        "ignore", "The given NumPy array is not writable", UserWarning, r"pairs\.widen"
    )
