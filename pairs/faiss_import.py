"""Import FAISS lazily, with a clear message when it is missing."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from blindpairs.errors import BlindpairsError

INSTALL_HINT = (
    "FAISS is not installed: pip install 'blindpairs[cpu]' (faiss-cpu) or "
    "'blindpairs[gpu]' (faiss-gpu-cu12); install one of them, never both"
)


def _tune_openblas() -> None:
    """Pick OpenBLAS's AVX-512 kernels for FAISS's bundled OpenBLAS when the CPU has them.

    The OpenBLAS that faiss-cpu wheels bundle falls back to slow generic kernels
    on some virtualised Xeons (measured 5-7x slower matrix products). Only set
    when FAISS is not loaded yet and the user has not set ``OPENBLAS_CORETYPE``.
    """
    if "faiss" in sys.modules or "OPENBLAS_CORETYPE" in os.environ:
        return
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="ignore")
    except OSError:
        return
    if " avx512f " in flags and " avx512dq " in flags:
        os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"


def import_faiss() -> Any:
    """Return the ``faiss`` module or raise a :class:`BlindpairsError` saying how to get it."""
    _tune_openblas()
    try:
        import faiss
    except ImportError as exc:
        raise BlindpairsError(f"{INSTALL_HINT} ({exc})") from None
    return faiss


def gpu_count(faiss: Any) -> int:
    """GPUs FAISS can use (0 for faiss-cpu)."""
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get is not None else 0
