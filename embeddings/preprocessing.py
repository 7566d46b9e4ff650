"""What turns a tile image into model input (and a vector into the embedding).

The preprocessing is a plain JSON-able dict recorded in every embeddings part,
so two runs agree on "the same embedding" only when encoder id, weights and
this dict all match. Keys: ``size`` (model input side, px), ``resize``
(``shortest``: scale the short side to ``size / crop_pct``), ``crop``
(``center``), ``crop_pct``, ``mean``, ``std``, ``interpolation``, ``pooling``
(how the vector is read off the model).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def make_preprocessing(
    *,
    size: int,
    mean: Sequence[float],
    std: Sequence[float],
    interpolation: str,
    resize: str,
    crop_pct: float,
    pooling: str,
) -> dict[str, Any]:
    """A normalised preprocessing dict (lists, floats) so it round-trips through JSON."""
    return {
        "size": int(size),
        "resize": str(resize),
        "crop": "center",
        "crop_pct": float(crop_pct),
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "interpolation": str(interpolation),
        "pooling": str(pooling),
    }
