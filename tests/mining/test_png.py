"""The tile stage's PNG writer: lossless at every level, readable by every consumer."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from blindpairs.png import encode_png, encode_stored_into, stored_size
from mining.png_column import PngColumn


def tile(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A uint8 (3, h, w) tile: smooth structure plus noise, and the extremes 0 and 255."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = (128 + 100 * np.sin(xx / 9.0) * np.cos(yy / 13.0))[None] + rng.normal(0, 20, (3, h, w))
    rgb = np.clip(base, 0, 255).astype(np.uint8)
    rgb[:, 0, 0], rgb[:, -1, -1] = 0, 255
    return rgb


@pytest.mark.parametrize("level", [0, 1, 6, 9])
# 512 px: 42 scanlines fill a stored block (65535 bytes), so 42 and 84 rows end on a block
@pytest.mark.parametrize(
    ("h", "w"), [(512, 512), (42, 512), (84, 512), (43, 512), (7, 300), (300, 7), (1, 1)]
)
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


def test_a_scanline_longer_than_a_stored_block_falls_back_to_zlib() -> None:
    """Over 21844 px a row does not fit a deflate stored block: zlib writes level 0."""
    assert stored_size(2, 21844) is not None and stored_size(2, 21845) is None
    rgb = tile(2, 21845)
    with Image.open(io.BytesIO(encode_png(rgb, 0))) as im:
        np.testing.assert_array_equal(np.asarray(im).transpose(2, 0, 1), rgb)


def test_the_stored_writer_refuses_a_buffer_of_another_size() -> None:
    rgb = tile(8, 8)
    with pytest.raises(ValueError, match=f"{stored_size(8, 8)} bytes"):
        encode_stored_into(rgb, np.empty(stored_size(8, 8) + 1, np.uint8))


@pytest.mark.parametrize("level", [0, 1])
def test_the_png_column_holds_the_pngs_of_the_tiles_appended(level: int) -> None:
    """Fewer tiles than the capacity (dropped tiles), each the PNG encode_png writes."""
    tiles = [tile(32, 32, seed) for seed in range(3)]
    column = PngColumn(level, capacity=5, size=32)
    for rgb in tiles:
        column.append(rgb)
    array = column.array()
    array.validate(full=True)
    assert array.type == pa.binary()
    assert array.to_pylist() == [encode_png(rgb, level) for rgb in tiles]
    assert PngColumn(level, capacity=4, size=32).array().to_pylist() == []


def test_zlibs_checksums_give_the_same_bytes(monkeypatch) -> None:
    """zlib-ng's SIMD CRC-32 and Adler-32 (used when installed) are zlib's functions."""
    import zlib

    import blindpairs.png

    rgb = tile(100, 700)
    fast = encode_png(rgb, 0)
    monkeypatch.setattr(blindpairs.png, "crc32", zlib.crc32)
    monkeypatch.setattr(blindpairs.png, "adler32", zlib.adler32)
    assert encode_png(rgb, 0) == fast
