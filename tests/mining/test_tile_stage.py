"""The tile stage on generated rasters: pixels, footprints, validity, dtypes, bands."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import transform_bounds
from rasterio.windows import Window, bounds
from shapely import wkb

from blindpairs.schemas import TILES_SCHEMA, read_geo_metadata
from blindpairs.workspace import Workspace
from mining.radiometry import Stretch

from .helpers import meta, pixels, rows, tile
from .rasters import textured, write_raster


def test_uint8_rgb_tiles_equal_source_windows(tmp_path, raster):
    path = raster("a.tif", 3, "uint8", 200, 256, colorinterp=("red", "green", "blue"))
    summary = tile(tmp_path / "ws", [path])
    assert summary.new == ["a"] and not summary.failed
    got = rows(tmp_path / "ws", "a")
    # shift rule: columns 0,64,128,192 ; rows 0,64,128,136 (last flush with the edge)
    assert sorted({r["row_off"] for r in got}) == [0, 64, 128, 136]
    assert len(got) == 16 == summary.tiles_written
    with rasterio.open(path) as ds:
        for r in got:
            src = ds.read(window=Window(r["col_off"], r["row_off"], 64, 64))
            np.testing.assert_array_equal(pixels(r), src)
            assert r["valid_fraction"] == 1.0
            assert r["proj:code"] == "EPSG:32633"
            assert r["gsd_m"] == pytest.approx(10.0)
    assert len({r["tile_id"] for r in got}) == len(got)


def test_footprints_match_transform_bounds(tmp_path, raster):
    path = raster(
        "utm.tif",
        3,
        "uint8",
        128,
        128,
        crs="EPSG:32618",
        transform=from_origin(300_000, 4_500_000, 30, 30),
    )
    tile(tmp_path / "ws", [path])
    with rasterio.open(path) as ds:
        for r in rows(tmp_path / "ws", "utm"):
            win = Window(r["col_off"], r["row_off"], r["width"], r["height"])
            expected = transform_bounds(
                ds.crs, "EPSG:4326", *bounds(win, ds.transform), densify_pts=21
            )
            poly = wkb.loads(r["geometry"])
            assert poly.is_valid
            np.testing.assert_allclose(poly.bounds, expected, atol=1e-7)
            # the tile's own transform maps its pixel (0, 0) to the window's corner
            a = r["proj:transform"]
            assert (a[2], a[5]) == pytest.approx(ds.transform * (r["col_off"], r["row_off"]))
    geo = read_geo_metadata(Workspace(tmp_path / "ws").tile_part("utm"))
    assert geo["primary_column"] == "geometry" and geo["columns"]["geometry"]["encoding"] == "WKB"
    schema = pq.read_schema(Workspace(tmp_path / "ws").tile_part("utm"))
    assert schema.names == TILES_SCHEMA.names


@pytest.mark.parametrize("dtype", ["uint16", "int16", "float32"])
def test_non_8bit_is_stretched_by_scene_percentiles(tmp_path, raster, dtype):
    path = raster(f"s_{dtype}.tif", 3, dtype, 128, 128, seed=3)
    tile(tmp_path / "ws", [path])
    m = meta(tmp_path / "ws", f"s_{dtype}")
    st = Stretch(tuple(m["stretch"]["lo"]), tuple(m["stretch"]["gain"]), m["stretch"]["how"])
    assert st.how.startswith("percentiles 2-98")
    with rasterio.open(path) as ds:
        full = ds.read().astype(np.float64)
        for b in range(3):  # the stats come from the (here undecimated) scene
            assert st.lo[b] == pytest.approx(np.percentile(full[b], 2))
        for r in rows(tmp_path / "ws", f"s_{dtype}"):
            src = ds.read(window=Window(r["col_off"], r["row_off"], 64, 64))
            np.testing.assert_array_equal(pixels(r), st.apply(src))


def test_fixed_scale_factor(tmp_path, raster):
    path = raster("refl.tif", 3, "uint16", 64, 64, seed=1)
    tile(tmp_path / "ws", [path], scale_factor=0.02)
    with rasterio.open(path) as ds:
        expected = np.clip(np.rint(ds.read() * 0.02), 0, 255)
    np.testing.assert_array_equal(pixels(rows(tmp_path / "ws", "refl")[0]), expected)


def test_single_band_becomes_grey_and_13_bands_need_a_choice(tmp_path, raster):
    grey = raster("pan.tif", 1, "uint16", 64, 64)
    s2 = raster("s2.tif", 13, "uint16", 64, 64, seed=5)
    summary = tile(tmp_path / "ws", [grey, s2])
    px = pixels(rows(tmp_path / "ws", "pan")[0])
    assert (px[0] == px[1]).all() and (px[1] == px[2]).all()
    assert [u for u, _ in summary.failed] == [str(s2)]
    assert "--bands" in summary.failed[0][1]
    # a preset is a tiling option of the whole workspace (pan cannot take it): another one
    summary = tile(tmp_path / "ws2", [s2], preset="sentinel2-l2a")
    assert summary.new == ["s2"]
    assert rows(tmp_path / "ws2", "s2")[0]["bands"] == [4, 3, 2]


def test_four_band_explicit_bands(tmp_path, raster):
    path = raster("wv.tif", 4, "uint8", 64, 64, seed=2)
    tile(tmp_path / "ws", [path], bands=(3, 2, 1))
    with rasterio.open(path) as ds:
        expected = ds.read([3, 2, 1])
    np.testing.assert_array_equal(pixels(rows(tmp_path / "ws", "wv")[0]), expected)


def test_nodata_mask_and_alpha_give_valid_fraction(tmp_path, scenes_dir):
    data = textured((3, 128, 128), "uint8", 7)
    data[:, :, :32] = 0  # nodata stripe: the left half of the first tile column
    nod = write_raster(scenes_dir / "nod.tif", data, nodata=0)
    mask = np.ones((128, 128), bool)
    mask[:16, :] = False
    msk = write_raster(scenes_dir / "msk.tif", textured((3, 128, 128), "uint8", 8), mask=mask)
    rgba = np.concatenate(
        [textured((3, 128, 128), "uint8", 9), np.where(mask, 255, 0)[None].astype(np.uint8)]
    )
    alpha = write_raster(
        scenes_dir / "alpha.tif", rgba, colorinterp=("red", "green", "blue", "alpha")
    )
    summary = tile(tmp_path / "ws", [nod, msk, alpha], min_valid=0.0)
    assert not summary.failed
    vf = {
        r["col_off"]: r["valid_fraction"] for r in rows(tmp_path / "ws", "nod") if r["row_off"] == 0
    }
    assert vf == {0: 0.5, 64: 1.0}
    for name in ("msk", "alpha"):
        vf = {
            r["row_off"]: r["valid_fraction"]
            for r in rows(tmp_path / "ws", name)
            if r["col_off"] == 0
        }
        assert vf == {0: 0.75, 64: 1.0}, name
    assert meta(tmp_path / "ws", "alpha")["mask"] == "alpha"


def test_declared_alpha_holding_data_is_not_a_mask(tmp_path, scenes_dir):
    rgbn = textured((4, 64, 64), "uint8", 11)  # the 4th band varies: NIR, as in NAIP
    path = write_raster(
        scenes_dir / "naip.tif", rgbn, colorinterp=("red", "green", "blue", "alpha")
    )
    summary = tile(tmp_path / "ws", [path])
    assert rows(tmp_path / "ws", "naip")[0]["valid_fraction"] == 1.0
    assert any("declared alpha" in n for n in summary.notes)


def test_low_valid_and_uniform_tiles_are_dropped_and_counted(tmp_path, scenes_dir):
    data = textured((3, 128, 128), "uint8", 4)
    data[:, :64, :64] = 0  # a nodata tile
    data[:, 64:, :64] = 90  # a blank tile
    data[:, :64, 64:] = 252  # a cloud
    path = write_raster(scenes_dir / "mix.tif", data, nodata=0)
    summary = tile(tmp_path / "ws", [path])
    assert summary.tiles_written == 1
    assert summary.dropped == {"low_valid": 1, "uniform": 2} or summary.dropped == {
        "low_valid": 1,
        "uniform": 1,
        "saturated": 1,
    }
    assert meta(tmp_path / "ws", "mix")["dropped"] == dict(summary.dropped)


def test_cloud_with_texture_is_dropped_as_saturated(tmp_path, scenes_dir):
    data = textured((3, 64, 64), "uint8", 4)
    data[:, :48] = 253  # most of the tile near-white, the rest textured
    path = write_raster(scenes_dir / "cloud.tif", data)
    summary = tile(tmp_path / "ws", [path])
    assert summary.dropped["saturated"] == 1 and summary.tiles_written == 0


def test_target_gsd_resamples(tmp_path, raster):
    path = raster("fine.tif", 3, "uint8", 256, 256)  # 10 m pixels
    tile(tmp_path / "ws", [path], gsd=20.0)
    got = rows(tmp_path / "ws", "fine")
    assert len(got) == 4
    for r in got:
        assert r["gsd_m"] == pytest.approx(20.0)
        assert (r["width"], r["height"]) == (128, 128)
        assert pixels(r).shape == (3, 64, 64)
        assert r["proj:transform"][0] == pytest.approx(20.0)


def test_pad_rule_keeps_edges_as_invalid(tmp_path, raster):
    path = raster("odd.tif", 3, "uint8", 100, 100)
    tile(tmp_path / "ws", [path], edge="pad", min_valid=0.0)
    got = rows(tmp_path / "ws", "odd")
    assert len(got) == 4
    corner = next(r for r in got if r["row_off"] == 64 and r["col_off"] == 64)
    assert corner["valid_fraction"] == pytest.approx((36 * 36) / (64 * 64))
    assert (pixels(corner)[:, 40:, :] == 0).all()
