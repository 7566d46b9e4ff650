"""The statistics sample of tiler 3: nearest-neighbour decimation, and what a workspace
tiled by tiler 2 (statistics from the tiles' resampling, "average") gets on upgrade."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import rasterio.shutil
from rasterio.enums import Resampling

from blindpairs.cli import main
from blindpairs.errors import ConfigError
from mining import params as params_module
from mining import plan, retile, stage
from mining.reading import (
    PixelSource,
    direct_io_readable,
    nearest_index,
    read_rgb_valid,
    read_sample,
)

from .helpers import meta, rows, tile
from .rasters import textured, write_raster

SIDE = 2048  # twice plan.STATS_SIDE: the sample is decimated 2x


def _clipped(full: np.ndarray, lo: float, gain: float) -> tuple[float, float]:
    """Shares of a band's pixels the stretch maps below 0 and above 255."""
    hi = lo + 255.0 / gain
    return float(np.mean(full < lo)), float(np.mean(full > hi))


def test_stretch_clips_what_its_percentiles_promise(tmp_path, raster) -> None:
    path = raster("big.tif", 3, "uint16", SIDE, SIDE, seed=7)
    tile(tmp_path / "ws", [path], size=512, min_std=0.0)  # resampling: "average" (default)
    st = meta(tmp_path / "ws", "big")["stretch"]
    with rasterio.open(path) as ds:
        full = ds.read()
        shape = (3, SIDE // 2, SIDE // 2)
        nearest = ds.read(out_shape=shape, resampling=Resampling.nearest)
        average = ds.read(out_shape=shape, resampling=Resampling.average)
    for b in range(3):
        assert st["lo"][b] == pytest.approx(np.percentile(nearest[b], 2))
        below, above = _clipped(full[b], st["lo"][b], st["gain"][b])
        assert below == pytest.approx(0.02, abs=0.003) and above == pytest.approx(0.02, abs=0.003)
        # a stretch from block means (tiler 2) clips far more than 2% at each end here
        lo, hi = np.percentile(average[b], [2, 98])
        old_below, old_above = _clipped(full[b], lo, 255.0 / (hi - lo))
        assert old_below > 0.05 and old_above > 0.05


@pytest.mark.parametrize(
    ("shape", "dtype", "mask"),
    [
        ((3, 300, 200), "uint16", "none"),
        ((4, 257, 611), "int16", "nodata"),
        ((3, 640, 96), "float32", "nodata"),
        ((3, 333, 500), "uint8", "dataset"),
        ((4, 200, 300), "uint8", "alpha"),
    ],
)
@pytest.mark.parametrize(
    "layout",
    [
        {},  # striped, pixel-interleaved, uncompressed: GDAL's direct decimated read
        {"tiled": True, "blockxsize": 64, "blockysize": 32, "interleave": "band"},
        {"compress": "deflate", "tiled": True, "blockxsize": 64, "blockysize": 64},  # rows
    ],
    ids=["direct-striped", "direct-tiled", "rows-deflate"],
)
def test_the_sample_is_the_nearest_pick_of_the_scene(tmp_path, shape, dtype, mask, layout) -> None:
    """Every sampled pixel and its validity are those of the source pixel under the
    sample's centre, the same as GDAL's nearest decimated read, for every mask kind, by
    the direct read of uncompressed files and the row reads of the others."""
    data = textured(shape, dtype, 3)
    kw: dict = {}
    if mask == "nodata":
        data[:, 10:60, 5:40] = -9999 if dtype != "float32" else np.nan
        kw["nodata"] = -9999 if dtype != "float32" else float("nan")
    if mask == "dataset":
        kw["mask"] = textured(shape[1:], "uint8", 4) > 100
    if mask == "alpha":
        data[3] = np.where(textured(shape[1:], "uint8", 5) > 100, 255, 0)
        kw["colorinterp"] = ("red", "green", "blue", "alpha")
    path = write_raster(tmp_path / "plain.tif", data, **kw)
    if layout:
        rasterio.shutil.copy(path, tmp_path / "s.tif", driver="GTiff", **layout)
        path = tmp_path / "s.tif"
    src = PixelSource((1, 2, 3), mask, 4 if mask == "alpha" else None, kw.get("nodata"), "average")
    out = (shape[1] // 3, shape[2] // 3)
    with rasterio.open(path) as ds:
        assert direct_io_readable(ds) == ("compress" not in layout)
        sample, valid = read_sample(ds, src, out)
        full, full_valid = read_rgb_valid(ds, src, None, shape[1:])
        gdal = ds.read([1, 2, 3], out_shape=(3, *out), resampling=Resampling.nearest)
    rows, cols = nearest_index(shape[1], out[0]), nearest_index(shape[2], out[1])
    np.testing.assert_array_equal(sample, full[:, rows][:, :, cols])
    np.testing.assert_array_equal(valid, full_valid[rows][:, cols])
    np.testing.assert_array_equal(sample, gdal)
    assert 0 < valid.mean() < 1 or mask == "none"


def _tiler_2_sample(ds, source: PixelSource, out_shape: tuple[int, int]):  # noqa: ANN001, ANN202
    return read_rgb_valid(ds, source, None, out_shape)  # GDAL's read in the tiles' resampling


def _as_tiler_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the tile stage as tiler 2 did: its version, statistics in the tiles' resampling."""
    for module in (params_module, stage, retile):
        monkeypatch.setattr(module, "TILER_VERSION", 2)
    monkeypatch.setattr(plan, "read_sample", _tiler_2_sample)


def test_a_tiler_2_workspace_is_retiled_with_the_new_statistics(
    tmp_path, raster, monkeypatch, capsys
) -> None:
    path = raster("big.tif", 3, "uint16", SIDE, SIDE, seed=7)
    ws = tmp_path / "ws"
    with monkeypatch.context() as m:
        _as_tiler_2(m)
        tile(ws, [path], size=512, min_std=0.0)
    old = meta(ws, "big")
    old_ids = {r["tile_id"] for r in rows(ws, "big")}
    assert old["tiler_version"] == 2
    code = main(["tile", "-w", str(ws), "-q", "--size", "512", "--min-std", "0", str(path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "tiling changed for 1 tiled scene(s) (tiler version 2 -> 3)" in out
    assert "options differ" not in out and "1 changed" in out
    new = meta(ws, "big")
    assert new["tiler_version"] == params_module.TILER_VERSION == 3
    assert new["tiling"] != old["tiling"] and new["stretch"]["lo"] != old["stretch"]["lo"]
    new_rows = rows(ws, "big")
    assert {r["tiling"] for r in new_rows} == {new["tiling"]}
    assert len(new_rows) == len(old_ids) and not old_ids & {r["tile_id"] for r in new_rows}


def test_a_tiler_2_workspace_whose_scene_is_gone_keeps_its_tiles(
    tmp_path, raster, monkeypatch
) -> None:
    a = raster("a.tif", seed=1)
    b = raster("b.tif", seed=2)
    ws = tmp_path / "ws"
    with monkeypatch.context() as m:
        _as_tiler_2(m)
        tile(ws, [a, b])
    before = {p.name: p.read_bytes() for p in sorted((ws / "tiles").iterdir())}
    b.unlink()
    with pytest.raises(ConfigError, match="tiler version 2 -> 3") as err:
        tile(ws, [a])
    assert "nothing was written or deleted" in str(err.value) and "b (" in str(err.value)
    assert {p.name: p.read_bytes() for p in sorted((ws / "tiles").iterdir())} == before
