"""float16 <-> float32 conversions (and gathers) with torch, whose conversion is vectorised.

NumPy's float16 <-> float32 casts run element by element on this CPU (several
times slower than a float32 matrix product of the same rows); torch's is
vectorised. The conversion is exact either way, so the results are the same.
torch is imported only when float16 rows are involved: runs that hold float32
rows (up to :data:`pairs.inputs.HOLD_FLOAT32_MAX` tiles) and a run with nothing
to do never import it.
"""

from __future__ import annotations

import numpy as np


def widen(x: np.ndarray) -> np.ndarray:
    """``x`` as float32: itself when it is float32, a torch-widened copy when float16."""
    if x.dtype == np.float32:
        return x
    if x.dtype != np.float16:
        return np.asarray(x, dtype=np.float32)
    import torch

    return torch.from_numpy(np.ascontiguousarray(x)).float().numpy()


def gather(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``x[rows]`` as float32 (rows of a 2-d array, any order, repeats allowed)."""
    if x.dtype != np.float16 or x.ndim != 2 or not x.flags.c_contiguous:
        return widen(x[rows])
    import torch

    index = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.int64))
    return torch.from_numpy(x).index_select(0, index).float().numpy()


def narrow(x: np.ndarray) -> np.ndarray:
    """float32 ``x`` rounded to float16 (nearest even, as NumPy's cast) with torch."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).half().numpy()
