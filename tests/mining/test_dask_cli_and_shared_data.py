"""The tile stage on a 2-worker Dask cluster, through the CLI, and on real imagery."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from shapely import wkb

from blindpairs.cli import main
from blindpairs.compute import Compute
from blindpairs.workspace import Workspace
from mining.params import TileParams
from mining.stage import run

from .helpers import pixels, rows, tile

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.slow
def test_two_worker_cluster_gives_the_same_tiles(tmp_path, raster):
    from distributed import LocalCluster

    scenes = [raster("a.tif", seed=1), raster("b.tif", 1, "uint16", seed=2)]
    tile(tmp_path / "local", scenes)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        run(
            Workspace(tmp_path / "dask"),
            TileParams(size=64, scenes=tuple(str(s) for s in scenes)),
            Compute(scheduler=cluster.scheduler_address, quiet=True),
        )
    for sid in ("a", "b"):
        assert pq.read_table(Workspace(tmp_path / "local").tile_part(sid)).equals(
            pq.read_table(Workspace(tmp_path / "dask").tile_part(sid))
        )


def test_cli_tiles_with_config_file_and_records_resolved_config(tmp_path, raster, capsys):
    a = raster("a.tif", seed=1)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"tile": {"scenes": [str(a)], "size": 128, "min_valid": 0.5}}))
    ws = tmp_path / "ws"
    assert main(["tile", "-w", str(ws), "-c", str(cfg), "-q", "--size", "64"]) == 0
    out = capsys.readouterr().out
    assert "1 new" in out and "16 written" in out
    resolved = yaml.safe_load(Workspace(ws).config.read_text())["tile"]
    assert resolved["size"] == 64 and resolved["min_valid"] == 0.5  # flag beats file beats default
    assert main(["tile", "-w", str(ws), "-c", str(cfg), "-q", "--size", "64"]) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--size", "4"], "size must be >= 16"),
        (["--bands", "4,x,2"], "comma-separated integers"),
        (["--percentiles", "98,2"], "percentiles"),
        (["--bands", "4,3,2", "--preset", "naip"], "either bands or preset"),
        (["--preset", "landsat99"], "unknown preset"),
    ],
)
def test_bad_options_fail_before_any_work(tmp_path, raster, capsys, argv, message):
    a = raster("a.tif")
    ws = tmp_path / "ws"
    assert main(["tile", str(a), "-w", str(ws), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not ws.exists()


def test_unknown_config_key_names_the_file_and_the_known_keys(tmp_path, raster, capsys):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("tile:\n  tile_size: 64\n")
    assert main(["tile", str(raster("a.tif")), "-w", str(tmp_path / "ws"), "-c", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert str(cfg) in err and "tile_size" in err and "min_valid" in err


def test_help_documents_every_option():
    out = subprocess.run(
        [sys.executable, "-m", "blindpairs", "tile", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    text = " ".join(out.split())
    for field in TileParams.__dataclass_fields__:
        flag = field if field == "scenes" else "--" + field.replace("_", "-")  # positional
        assert f"{flag} " in text and f"[{field}; default:" in text
    assert "--scheduler" in out and "--workspace" in out


def test_example_scenes_are_deterministic_and_tile(tmp_path):
    from mining.example import write_example_scenes

    first = write_example_scenes(tmp_path / "ex")
    stamps = [p.stat().st_mtime_ns for p in first]
    blobs = [p.read_bytes() for p in first]
    second = write_example_scenes(tmp_path / "ex")
    assert [p.read_bytes() for p in second] == blobs
    assert [p.stat().st_mtime_ns for p in second] == stamps  # identical files left alone
    summary = tile(tmp_path / "ws", [tmp_path / "ex"], size=256)
    assert not summary.failed and len(summary.new) == len(first)
    assert summary.tiles_written > 40


@pytest.mark.integration
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not present")
def test_every_shared_scene_tiles_with_sane_footprints(tmp_path):
    import rasterio
    from rasterio.warp import transform_bounds

    files = sorted(SHARED.glob("*.tif"))
    summary = tile(tmp_path / "ws", files, size=128, min_valid=0.5)
    assert not summary.failed, summary.failed
    assert len(summary.new) == len(files)
    for f in files:
        got = rows(tmp_path / "ws", f.stem)
        assert got, f.name
        with rasterio.open(f) as ds:
            scene = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds, densify_pts=21)
        for r in got:
            poly = wkb.loads(r["geometry"])
            x0, y0, x1, y1 = poly.bounds
            assert scene[0] - 1e-6 <= x0 < x1 <= scene[2] + 1e-6, f.name
            assert scene[1] - 1e-6 <= y0 < y1 <= scene[3] + 1e-6, f.name
            assert pixels(r).std() > 3  # stretched to real contrast, not black or white
    # NAIP declares NIR as alpha: those pixels are valid, not masked
    naip = rows(tmp_path / "ws", "naip_sandiego_road_0.6m")
    assert all(r["valid_fraction"] == 1.0 for r in naip) and naip[0]["bands"] == [1, 2, 3]
    # the Landsat scene's nodata frame lowers the valid fraction of its border tiles
    landsat = rows(tmp_path / "ws", "rasterio_RGB.byte_landsat7_300m")
    assert min(r["valid_fraction"] for r in landsat) < 1.0
    assert summary.dropped["low_valid"] > 0
    # the float64 SpaceNet scene, far outside 0..255, is stretched
    sn = rows(tmp_path / "ws", "spacenet6_rotterdam_ms_1m")
    assert np.mean([pixels(r).mean() for r in sn]) > 30


def test_exit_code_reports_failures_without_stopping_a_pipeline(
    tmp_path, raster, scenes_dir, capsys
):
    good = raster("good.tif")
    bad = scenes_dir / "bad.tif"
    bad.write_text("nope")
    ws = str(tmp_path / "ws")
    assert main(["tile", str(good), str(bad), "-w", ws, "-q", "--size", "64"]) == 0
    assert f"FAILED {bad}" in capsys.readouterr().err
    assert main(["tile", str(good), str(bad), "-w", ws, "-q", "--size", "64", "--strict"]) == 1
    assert main(["tile", str(bad), "-w", str(tmp_path / "ws2"), "-q"]) == 1
