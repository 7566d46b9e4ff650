"""The tile stage's PNG writer: lossless at every level, readable by every consumer."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from blindpairs.png import encode_png


def tile(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A uint8 (3, h, w) tile: smooth structure plus noise, and the extremes 0 and 255."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = (128 + 100 * np.sin(xx / 9.0) * np.cos(yy / 13.0))[None] + rng.normal(0, 20, (3, h, w))
    rgb = np.clip(base, 0, 255).astype(np.uint8)
    rgb[:, 0, 0], rgb[:, -1, -1] = 0, 255
    return rgb


@pytest.mark.parametrize("level", [0, 1, 6, 9])
@pytest.mark.parametrize(("h", "w"), [(512, 512), (7, 300), (300, 7), (1, 1)])
def test_lossless_and_readable_by_pil_and_torchvision(level: int, h: int, w: int) -> None:
    import torch
    from torchvision.io import ImageReadMode, decode_png

    rgb = tile(h, w, seed=level)
    data = encode_png(rgb, level)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG" and im.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(im).transpose(2, 0, 1), rgb)
    decoded = decode_png(torch.frombuffer(bytearray(data), dtype=torch.uint8), ImageReadMode.RGB)
    np.testing.assert_array_equal(decoded.numpy(), rgb)


def test_a_strided_view_encodes_like_its_copy() -> None:
    big = tile(64, 64)
    view = big[:, 10:40, 5:60]  # what a tiler may hand over: not contiguous
    assert encode_png(view, 1) == encode_png(np.ascontiguousarray(view), 1)


def test_level_zero_stores_and_deflate_compresses() -> None:
    rgb = tile(256, 256)
    stored, deflated = encode_png(rgb, 0), encode_png(rgb, 1)
    assert len(stored) >= rgb.size  # stored blocks: at least the raw bytes
    assert len(deflated) < 0.9 * len(stored)


@pytest.mark.parametrize(
    ("array", "level", "match"),
    [
        (np.zeros((4, 8, 8), np.uint8), 0, "uint8 \\(3, h, w\\)"),
        (np.zeros((3, 8, 8), np.uint16), 0, "uint8 \\(3, h, w\\)"),
        (np.zeros((3, 8, 8), np.uint8), 10, "0..9"),
    ],
)
def test_bad_input_is_refused(array: np.ndarray, level: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        encode_png(array, level)
