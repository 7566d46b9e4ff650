"""Rasters of kinds the tile stage met in the wild: complex SAR, GCP-only, RPC-only,
undeclared fill borders and non-square pixels (each generated, seeded)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.transform import Affine, from_origin
from rasterio.warp import transform_bounds

from .helpers import meta, pixels, rows, tile
from .rasters import textured, write_raster


def test_complex64_scene_is_amplitude_in_db_without_complex_warning(tmp_path) -> None:
    rng = np.random.default_rng(3)
    # a bright left half (+20 dB), a dark right half, random phase everywhere
    amp = np.where(np.arange(128)[None, :] < 64, 10.0, 1.0) * rng.uniform(0.5, 1.5, (128, 128))
    z = (amp * np.exp(1j * rng.uniform(-np.pi, np.pi, amp.shape))).astype(np.complex64)
    z[:, :20] = 0  # zero amplitude: no signal, invalid
    path = write_raster(tmp_path / "slc.tif", z[None], transform=from_origin(400_000, 5e6, 5, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        summary = tile(tmp_path / "ws", [path], size=32, min_valid=0.5)
    assert not summary.failed, summary.failed
    got = rows(tmp_path / "ws", "slc")
    assert "percentiles" in meta(tmp_path / "ws", "slc")["stretch"]["how"]
    by_col = {}
    for r in got:
        by_col.setdefault(r["col_off"], []).append(pixels(r)[0].astype(float).mean())
    assert 0 not in by_col  # columns 0..31 are 62% zero amplitude: dropped as invalid
    # amplitude, not the real part (whose mean is ~0 on both halves with random phase):
    # the bright half is bright, the dark half dark
    assert min(by_col[32]) > max(by_col[96]) + 100


def test_amplitude_db_averages_power_not_complex_values() -> None:
    from mining.reading import area_mean

    power = np.array([[[4.0, 0.0, 1.0, 1.0]]])
    assert area_mean(power, (1, 2)).tolist() == [[[2.0, 1.0]]]
    assert area_mean(power, (1, 8)).shape == (1, 1, 8)


def _gcp_scene(path, crs: str = "EPSG:32633"):
    data = textured((3, 200, 300), "uint8", 7)
    # a 10 m grid rotated by ~2 degrees, as Level-1 swaths are
    gcps = [
        GroundControlPoint(row=0, col=0, x=400_000, y=5_000_000),
        GroundControlPoint(row=0, col=300, x=402_998, y=5_000_105),
        GroundControlPoint(row=200, col=0, x=400_070, y=4_998_001),
        GroundControlPoint(row=200, col=300, x=403_068, y=4_998_106),
    ]
    profile = dict(driver="GTiff", width=300, height=200, count=3, dtype="uint8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data)
            dst.gcps = (gcps, CRS.from_user_input(crs))
    return path, gcps


def test_gcp_only_scene_tiles_with_footprints_from_its_gcps(tmp_path) -> None:
    path, gcps = _gcp_scene(tmp_path / "l1.tif")
    summary = tile(tmp_path / "ws", [path], size=64, min_valid=0.5)
    assert not summary.failed, summary.failed
    assert any("GCPs" in n for n in summary.notes)
    got = rows(tmp_path / "ws", "l1")
    assert got and {r["proj:code"] for r in got} == {"EPSG:32633"}
    union = shapely.union_all([shapely.from_wkb(r["geometry"]) for r in got])
    # every footprint lies within the GCPs' extent (in lon/lat), and they cover most of it
    xs, ys = [g.x for g in gcps], [g.y for g in gcps]
    w, s, e, n = transform_bounds("EPSG:32633", "EPSG:4326", min(xs), min(ys), max(xs), max(ys))
    extent = shapely.box(w, s, e, n).buffer(1e-4)
    assert extent.contains(union) and union.area > 0.5 * extent.area
    # the warped area outside the swath is invalid, not black data
    assert min(r["valid_fraction"] for r in got) < 1.0


def test_gcps_without_crs_and_bare_rasters_say_what_is_missing(tmp_path) -> None:
    bare = tmp_path / "bare.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(
            bare, "w", driver="GTiff", width=64, height=64, count=1, dtype="uint8"
        ) as dst:
            dst.write(textured((1, 64, 64), "uint8", 1))
    gcps = "".join(
        f'<GCP Id="{i}" Pixel="{c}" Line="{r}" X="{400_000 + 10 * c}" Y="{5e6 - 10 * r}"/>'
        for i, (r, c) in enumerate([(0, 0), (0, 64), (64, 0), (64, 64)])
    )
    nocrs = tmp_path / "nocrs.vrt"  # GCPs with no projection: only a VRT can say that
    nocrs.write_text(
        f'<VRTDataset rasterXSize="64" rasterYSize="64"><GCPList>{gcps}</GCPList>'
        '<VRTRasterBand dataType="Byte" band="1"><SimpleSource>'
        '<SourceFilename relativeToVRT="1">bare.tif</SourceFilename><SourceBand>1</SourceBand>'
        "</SimpleSource></VRTRasterBand></VRTDataset>"
    )
    summary = tile(tmp_path / "ws", [nocrs, bare], size=32)
    reasons = dict(summary.failed)
    assert (
        "4 GCPs but no CRS" in reasons[str(nocrs)] and "gdal_edit.py -a_srs" in reasons[str(nocrs)]
    )
    assert "no georeference" in reasons[str(bare)] and "-a_ullr" in reasons[str(bare)]


def test_rpc_only_scene_is_refused_with_an_orthorectify_command(tmp_path) -> None:
    from rasterio.rpc import RPC

    path = tmp_path / "rpc.tif"
    unit = [1.0] + [0.0] * 19
    rpc = RPC(
        height_off=100, height_scale=500, lat_off=45, lat_scale=0.1, line_den_coeff=unit,
        line_num_coeff=[0, 0, -1] + [0] * 17, line_off=100, line_scale=100,
        long_off=10, long_scale=0.1, samp_den_coeff=unit,
        samp_num_coeff=[0, 1] + [0] * 18, samp_off=100, samp_scale=100,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(
            path, "w", driver="GTiff", width=200, height=200, count=3, dtype="uint8"
        ) as dst:
            dst.write(textured((3, 200, 200), "uint8", 2))
            dst.rpcs = rpc
    summary = tile(tmp_path / "ws", [path], size=64)
    (reason,) = dict(summary.failed).values()
    assert "RPCs only" in reason and "gdalwarp -rpc" in reason


@pytest.mark.parametrize("fill", [0, 1])
def test_undeclared_fill_border_is_detected_and_noted(tmp_path, fill) -> None:
    data = textured((3, 256, 256), "uint16", 5)
    data[:, :, :96] = fill  # a third of the scene is fill, no nodata tag
    path = write_raster(tmp_path / "filled.tif", data)
    summary = tile(tmp_path / "ws", [path])
    assert any(f"constant value {fill}" in n for n in summary.notes)
    got = rows(tmp_path / "ws", "filled")
    assert got and all(r["col_off"] >= 96 for r in got)  # no black tile kept
    assert summary.dropped["low_valid"] == 4 * 2  # the fill columns 0..63 and the mixed 64..127
    # the stretch ignores fill: it spans the data's own range
    assert meta(tmp_path / "ws", "filled")["stretch"]["lo"][0] > 100
    # --no-detect-fill keeps the file as it is: the fill tiles are data (uniform)
    kept = tile(tmp_path / "ws2", [path], detect_fill=False)
    assert not any("constant value" in n for n in kept.notes) and kept.dropped["uniform"] == 4


def test_nodata_option_overrides_the_file(tmp_path) -> None:
    data = textured((3, 128, 128), "uint8", 6)
    data[:, 40:80, 40:80] = 7  # an undeclared fill value in the middle: not a border rule
    path = write_raster(tmp_path / "mid.tif", data)
    plain = tile(tmp_path / "ws", [path], size=32)  # 7 is data by default
    assert plain.dropped["low_valid"] == 0 and not any("nodata" in n for n in plain.notes)
    summary = tile(tmp_path / "ws2", [path], size=32, nodata=7)
    assert any("--nodata 7" in n for n in summary.notes)
    assert summary.dropped["low_valid"] == 4  # the four tiles the square touches


def test_a_textured_scene_has_no_fill(tmp_path, raster) -> None:
    path = raster("plain.tif", dtype="uint16", seed=8)
    assert not any("constant" in n for n in tile(tmp_path / "ws", [path]).notes)


def test_non_square_pixels_record_both_gsds(tmp_path) -> None:
    path = write_raster(
        tmp_path / "rect.tif",
        textured((3, 128, 128), "uint8", 9),
        transform=Affine(10.0, 0, 400_000, 0, -20.0, 5_000_000),
    )
    summary = tile(tmp_path / "ws", [path])
    assert any("non-square pixels (10 x 20 m)" in n for n in summary.notes)
    m = meta(tmp_path / "ws", "rect")
    assert m["gsd_xy_m"] == [10.0, 20.0]
    assert {r["gsd_m"] for r in rows(tmp_path / "ws", "rect")} == {10.0}


def test_complex_gcp_only_scene_like_a_sentinel1_slc_tiles(tmp_path) -> None:
    rng = np.random.default_rng(0)
    amp = rng.uniform(0.5, 2.0, (200, 300))
    z = (amp * np.exp(1j * rng.uniform(-np.pi, np.pi, amp.shape))).astype(np.complex64)
    gcps = [
        GroundControlPoint(row=0, col=0, x=10.0, y=45.0),
        GroundControlPoint(row=0, col=300, x=10.03, y=45.001),
        GroundControlPoint(row=200, col=0, x=10.001, y=44.98),
        GroundControlPoint(row=200, col=300, x=10.031, y=44.981),
    ]
    path = tmp_path / "s1.tif"
    profile = dict(driver="GTiff", width=300, height=200, count=1, dtype="complex64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(z[None])
            dst.gcps = (gcps, CRS.from_epsg(4326))
    summary = tile(tmp_path / "ws", [path], size=64, min_valid=0.5)
    assert not summary.failed, summary.failed
    got = rows(tmp_path / "ws", "s1")
    assert got and min(r["valid_fraction"] for r in got) < 1.0  # the warp's margin is invalid
