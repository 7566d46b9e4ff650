"""The tiler's fast paths give the same bytes as the straightforward code they replace.

Each ``reference_*`` below is the earlier implementation, kept verbatim as the spec.
"""

from __future__ import annotations

import struct
import zlib
from types import SimpleNamespace

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.transform import from_origin

from blindpairs.png import encode_png
from mining.footprint import footprint_wkb, to_lonlat, window_ring
from mining.radiometry import (
    IDENTITY,
    Stretch,
    lookup_table,
    percentile_stretch,
    percentiles,
    scale_stretch,
)
from mining.reading import PixelSource, read_rgb_valid
from mining.tiler import WHITE, _footprints, drop_reason
from tests.mining.rasters import textured, write_raster


def reference_stretch(st: Stretch, data: np.ndarray) -> np.ndarray:
    if st == IDENTITY and data.dtype == np.uint8:
        return data.copy()
    lo = np.asarray(st.lo, dtype=np.float32)[:, None, None]
    gain = np.asarray(st.gain, dtype=np.float32)[:, None, None]
    with np.errstate(over="ignore", invalid="ignore"):
        out = (data.astype(np.float32) - lo) * gain
    np.nan_to_num(out, copy=False, nan=0.0, posinf=255.0, neginf=0.0)
    np.rint(out, out=out)
    return np.clip(out, 0, 255).astype(np.uint8)


def reference_drop_reason(rgb: np.ndarray, valid: np.ndarray, task) -> str | None:  # noqa: ANN001
    if valid.mean() < task.min_valid:
        return "low_valid"
    if not valid.any():
        return "uniform"
    r, g, b = rgb.astype(np.float32)
    luminance = (0.299 * r + 0.587 * g + 0.114 * b)[valid]
    if luminance.std() < task.min_std:
        return "uniform"
    if (rgb.min(axis=0) >= WHITE)[valid].mean() > task.max_saturated:
        return "saturated"
    return None


def reference_png(rgb: np.ndarray, level: int) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(data, zlib.crc32(tag)) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    _, h, w = rgb.shape
    raw = np.empty((h, 3 * w + 1), dtype=np.uint8)
    pixels = raw[:, 1:]
    pixels[:] = rgb.transpose(1, 2, 0).reshape(h, 3 * w)
    raw[:, 0] = 0 if level == 0 else 1
    if level:
        np.subtract(pixels[:, 3:], pixels[:, :-3].copy(), out=pixels[:, 3:])
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, level))
        + chunk(b"IEND", b"")
    )


def raster_with_nodata(dtype: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A (3, 64, 80) ``dtype`` raster with fill, the type's extremes (and NaN/inf for
    floats) and its validity mask."""
    data = textured((3, 64, 80), dtype, seed)
    valid = np.ones(data.shape[1:], dtype=bool)
    data[:, :, :9] = 0  # fill on the left edge
    valid[:, :9] = False
    if np.issubdtype(data.dtype, np.integer):
        info = np.iinfo(data.dtype)
        data[0, 10, 10:20], data[1, 11, 10:20] = info.min, info.max
    else:
        data[:, 20:24, 30:40] = np.nan
        valid[20:24, 30:40] = False
        data[0, 30, 10:20], data[2, 31, 10:20] = np.inf, -np.inf
        data[1, 32, 10:20] = np.finfo(data.dtype).max
    return data, valid


DTYPES = ("uint8", "uint16", "int16", "float32", "float64")


def stretches(data: np.ndarray, valid: np.ndarray) -> list[Stretch]:
    """Percentile stretches as the tile stage computes them, and fixed ones that clip hard."""
    return [
        percentile_stretch(data, valid, 2.0, 98.0),
        percentile_stretch(data, valid, 0.0, 100.0),
        scale_stretch(0.0255),
        scale_stretch(3.7),
        Stretch(lo=(-1234.5, 0.25, 7.0), gain=(0.0031, 1e-6, 41.3), how="odd"),
        IDENTITY,
    ]


@pytest.mark.parametrize("dtype", DTYPES)
def test_stretch_equals_the_float_reference_with_nodata(dtype: str) -> None:
    for seed in range(3):
        data, valid = raster_with_nodata(dtype, seed)
        for st in stretches(data, valid):
            np.testing.assert_array_equal(st.apply(data), reference_stretch(st, data))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16"])
def test_lookup_table_maps_every_value_of_the_type_like_the_reference(dtype: str) -> None:
    info = np.iinfo(dtype)
    every = np.arange(info.min, info.max + 1).astype(dtype)
    data = np.stack([every, every[::-1], np.roll(every, 7)])[:, None, :]  # (3, 1, n)
    for st in stretches(textured((3, 8, 8), "uint16", 0), np.ones((8, 8), dtype=bool)):
        np.testing.assert_array_equal(st.apply(data), reference_stretch(st, data))


def test_lookup_table_is_built_once_per_stretch_and_type_and_is_read_only() -> None:
    st = scale_stretch(0.01)
    lut = lookup_table(st, "<u2")
    assert lut.shape == (3, 65536) and lut.dtype == np.uint8
    assert lookup_table(scale_stretch(0.01), "<u2") is lut
    assert lookup_table(st, "<i2") is not lut
    with pytest.raises(ValueError, match="read-only"):
        lut[0, 0] = 1


def test_float_stretch_does_not_change_its_input() -> None:
    data, _ = raster_with_nodata("float32", 0)
    before = data.copy()
    scale_stretch(2.0).apply(data)
    np.testing.assert_array_equal(data, before)


def _tiles(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Tiles that hit every drop rule: textured, uniform, near-white, partly valid."""
    rng = np.random.default_rng(seed)
    textured_rgb = rng.integers(0, 256, (3, 48, 48), dtype=np.uint8)
    flat = np.full((3, 48, 48), 90, dtype=np.uint8)
    flat[:, ::7, ::5] += 2  # std just above 0, below usual thresholds
    white = textured_rgb.copy()
    white[:, :30] = rng.integers(WHITE, 256, (3, 30, 48), dtype=np.uint8)
    quarter = textured_rgb.copy()
    quarter[:, :12] = WHITE  # exactly 0.25 near-white
    full = np.ones((48, 48), dtype=bool)
    partial = full.copy()
    partial[:, : rng.integers(1, 20)] = False
    white_outside = textured_rgb.copy()  # near-white only where invalid
    white_outside[:, ~partial] = 255
    none = np.zeros_like(full)
    rgbs = (textured_rgb, flat, white, quarter)
    return [*((rgb, v) for rgb in rgbs for v in (full, partial, none)), (white_outside, partial)]


@pytest.mark.parametrize("min_valid", [0.0, 0.7, 1.0])
@pytest.mark.parametrize("min_std", [0.0, 0.5, 3.0, 30.0])
@pytest.mark.parametrize("max_saturated", [0.05, 0.25, 0.6, 1.0])
def test_drop_reason_equals_the_reference(
    min_valid: float, min_std: float, max_saturated: float
) -> None:
    task = SimpleNamespace(min_valid=min_valid, min_std=min_std, max_saturated=max_saturated)
    reasons = set()
    for seed in range(3):
        for rgb, valid in _tiles(seed):
            with np.errstate(invalid="ignore", divide="ignore"):  # the reference on no pixel
                expected = reference_drop_reason(rgb, valid, task)
            assert drop_reason(rgb, valid, task) == expected
            reasons.add(expected)
    assert len(reasons) >= 2  # every setting tells tiles apart


@pytest.mark.parametrize("level", [0, 1, 6])
@pytest.mark.parametrize("shape", [(3, 512, 512), (3, 17, 5), (3, 1, 1)])
def test_png_bytes_equal_the_reference_encoder(level: int, shape: tuple[int, ...]) -> None:
    """Levels 1-9: the same bytes. Level 0 (written in place, deflate stored blocks of
    whole scanlines): the same chunks, every CRC right, and an IDAT that zlib inflates
    (checking its Adler-32) to the reference's scanlines."""
    rgb = np.random.default_rng(level).integers(0, 256, shape, dtype=np.uint8)
    view = np.random.default_rng(1).integers(0, 256, (6, shape[1], shape[2]), dtype=np.uint8)
    for tile in (rgb, view[::2]):
        got, want = encode_png(tile, level), reference_png(tile, level)
        if level:
            assert got == want
            continue
        got_chunks, want_chunks = png_chunks(got), png_chunks(want)
        assert (
            [t for t, _ in got_chunks] == [t for t, _ in want_chunks] == [b"IHDR", b"IDAT", b"IEND"]
        )
        assert got_chunks[0] == want_chunks[0]
        assert zlib.decompress(got_chunks[1][1]) == zlib.decompress(want_chunks[1][1])


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(tag, data) of each chunk of the PNG ``data``, every chunk's CRC checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, at = [], 8
    while at < len(data):
        (n,) = struct.unpack(">I", data[at : at + 4])
        tag, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + n]
        (crc,) = struct.unpack(">I", data[at + 8 + n : at + 12 + n])
        assert crc == zlib.crc32(body, zlib.crc32(tag)) & 0xFFFFFFFF, tag
        out.append((tag, body))
        at += 12 + n
    return out


@pytest.mark.parametrize("bands", [(1, 2, 3), (3, 2, 1), (2, 2, 2), (3, 1, 3)])
def test_bands_are_read_in_rgb_order(tmp_path, bands: tuple[int, int, int]) -> None:
    data = textured((3, 40, 50), "uint16", 4)
    path = write_raster(tmp_path / "s.tif", data)
    src = PixelSource(rgb=bands, mask="none", alpha=None, nodata=None, resampling="average")
    from rasterio.windows import Window

    with rasterio.open(path) as ds:
        got, valid = read_rgb_valid(ds, src, Window(5, 3, 32, 32), (32, 32))
    np.testing.assert_array_equal(got, data[[b - 1 for b in bands], 3:35, 5:37])
    assert valid.all()


@pytest.mark.parametrize(
    ("crs", "origin"),
    [("EPSG:32633", (400_000.0, 5_000_000.0)), ("EPSG:32660", (640_000.0, 6_680_000.0))],
)
def test_footprints_of_a_chunk_equal_those_of_single_windows(crs: str, origin) -> None:  # noqa: ANN001
    """One reprojection per chunk gives each tile the footprint it gets alone, also for
    tiles split at the antimeridian (UTM 60 at 60 N)."""
    transform = from_origin(*origin, 100, 100)
    plan = SimpleNamespace(
        transform=tuple(transform)[:6], crs_wkt=rasterio.crs.CRS.from_string(crs).to_wkt(), win=64
    )
    offsets = [(r, c) for r in (0, 64, 192) for c in (0, 64, 256, 448)]
    crs_obj = rasterio.crs.CRS.from_string(crs)
    alone = []
    for r, c in offsets:
        xs, ys = window_ring(Affine(*plan.transform), c, r, 64, 64)
        alone.append(footprint_wkb(*to_lonlat(crs_obj, xs, ys)))
    assert _footprints(plan, offsets) == alone
    assert _footprints(plan, []) == []
    if crs == "EPSG:32660":
        assert any(wkb[1:5] == struct.pack("<I", 6) for wkb in alone)  # some are split


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16", "int32", "float32"])
def test_percentiles_equal_numpys(dtype: str) -> None:
    """The histogram percentiles of 8/16-bit data are numpy's floats, for any sample size,
    spread and percentile (ends, near-ends, the stage's defaults, arbitrary)."""
    rng = np.random.default_rng(7)
    info = np.iinfo(dtype) if dtype != "float32" else np.iinfo("int16")
    pcts = [0.0, 100.0, 2.0, 98.0, 50.0, 0.001, 99.999, 33.3333, *rng.uniform(0, 100, 4)]
    for n in (1, 2, 3, 10, 1001, 20000):
        for spread in (0, 1, 40, 70000):
            center = int(rng.integers(info.min, info.max + 1))
            values = np.clip(center + rng.integers(-spread, spread + 1, n), info.min, info.max)
            values = values.astype(dtype)
            expected = [float(p) for p in np.percentile(values.astype(np.float64), pcts)]
            assert percentiles(values, tuple(pcts)) == expected
