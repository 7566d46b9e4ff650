"""Seeded PNG tiles for the embed stage's tests."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def png(seed: int, size: int = 48) -> bytes:
    """A seeded random RGB PNG with some structure (a bright square at a seeded place)."""
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 120, (size, size, 3), dtype=np.uint8)
    y, x = rng.integers(0, size // 2, 2)
    arr[y : y + size // 3, x : x + size // 3] = rng.integers(150, 255, 3, dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()
