"""The tile stage's run options (scenes, force, strict, drop_failed) and compute are config
keys, recorded in config.yaml; flags still win."""

from __future__ import annotations

import pytest
import yaml

from blindpairs.cli import main
from blindpairs.workspace import Workspace


def test_strict_and_scenes_from_the_config_file_and_recorded(tmp_path, raster, capsys):
    good = raster("good.tif", seed=1)
    cfg = tmp_path / "cfg.yaml"
    section = {"scenes": [str(good), str(tmp_path / "missing.tif")], "size": 64, "workers": 2}
    cfg.write_text(yaml.safe_dump({"tile": {**section, "strict": True}}))
    ws = tmp_path / "ws"
    assert main(["tile", "-w", str(ws), "-c", str(cfg), "-q"]) == 1  # strict: a scene failed
    assert "FAILED" in capsys.readouterr().err
    recorded = yaml.safe_load(Workspace(ws).config.read_text())["tile"]
    assert recorded["strict"] is True and recorded["workers"] == 2
    assert recorded["scenes"] == section["scenes"] and recorded["scheduler"] is None
    # the flag beats the file: without strict, one good scene is success
    assert main(["tile", "-w", str(ws), "-c", str(cfg), "-q", "--no-strict"]) == 0
    assert yaml.safe_load(Workspace(ws).config.read_text())["tile"]["strict"] is False


def test_force_from_the_config_file_re_tiles_unchanged_scenes(tmp_path, raster, capsys):
    a = raster("a.tif", seed=1)
    ws = tmp_path / "ws"
    assert main(["tile", str(a), "-w", str(ws), "-q", "--size", "64"]) == 0
    capsys.readouterr()
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"tile": {"size": 64, "force": True}}))
    assert main(["tile", str(a), "-w", str(ws), "-c", str(cfg), "-q"]) == 0
    assert "0 new, 1 changed, 0 unchanged" in capsys.readouterr().out
    assert main(["tile", str(a), "-w", str(ws), "-c", str(cfg), "-q", "--no-force"]) == 0
    assert "0 changed, 1 unchanged" in capsys.readouterr().out


def test_the_run_options_stay_out_of_the_parts_and_the_tiling(tmp_path, raster):
    import hashlib
    import json

    from blindpairs.config import to_dict
    from mining.params import NOT_TILING, RUN_OPTIONS, TILER_VERSION, TileParams

    from .helpers import meta, tile

    a = raster("a.tif", seed=1)
    tile(tmp_path / "ws", [a], strict=True, force=True)
    recorded = meta(tmp_path / "ws", "a")["params"]
    assert not set(RUN_OPTIONS) & recorded.keys() and recorded["size"] == 64
    assert not {"scheduler", "workers"} & recorded.keys()
    params = TileParams(size=64, scenes=("x",), force=True)
    # the hash as the previous release computed it, from every option but NOT_TILING
    old = {k: v for k, v in to_dict(TileParams(size=64)).items() if k not in NOT_TILING}
    old["version"] = TILER_VERSION
    old_hash = hashlib.sha1(json.dumps(old, sort_keys=True).encode()).hexdigest()[:12]
    assert params.tiling_hash() == params.tiling_only().tiling_hash() == old_hash


def test_a_part_written_with_the_run_options_in_its_metadata_is_still_current(
    tmp_path, raster, capsys
):
    import json

    import pyarrow.parquet as pq

    from blindpairs.schemas import META_KEY

    a = raster("a.tif", seed=1)
    ws = tmp_path / "ws"
    assert main(["tile", str(a), "-w", str(ws), "-q", "--size", "64"]) == 0
    part = Workspace(ws).tile_part("a")
    table = pq.read_table(part)
    old = dict(table.schema.metadata)
    meta = json.loads(old[META_KEY])
    meta["params"].update(scenes=[], force=False, strict=False, drop_failed=False)
    old[META_KEY] = json.dumps(meta).encode()
    pq.write_table(table.replace_schema_metadata(old), part)
    capsys.readouterr()
    assert main(["tile", str(a), "-w", str(ws), "-q", "--size", "64"]) == 0
    assert "0 new, 0 changed, 1 unchanged" in capsys.readouterr().out


def test_run_checks_for_scenes_too(tmp_path):
    from blindpairs.compute import Compute
    from blindpairs.errors import ConfigError
    from mining.params import TileParams
    from mining.stage import run

    with pytest.raises(ConfigError, match="no scenes given"):
        run(tmp_path / "ws", TileParams(), Compute(workers=1, quiet=True))
    assert not (tmp_path / "ws" / "tiles").exists()


def test_after_tile_force_the_recorded_config_does_not_re_tile(tmp_path, raster, capsys):
    a = raster("a.tif", seed=1)
    ws = tmp_path / "ws"
    assert main(["tile", str(a), "-w", str(ws), "-q", "--size", "64"]) == 0
    assert main(["tile", str(a), "-w", str(ws), "-q", "--size", "64", "--force"]) == 0
    capsys.readouterr()
    recorded = Workspace(ws).config
    assert yaml.safe_load(recorded.read_text())["tile"]["force"] is False
    assert main(["tile", "-w", str(ws), "-q", "-c", str(recorded)]) == 0
    assert "0 changed, 1 unchanged" in capsys.readouterr().out


def test_no_scenes_anywhere_fails_before_the_workspace_exists(tmp_path, capsys):
    ws = tmp_path / "ws"
    assert main(["tile", "-w", str(ws), "-q"]) == 2
    assert "no scenes given" in capsys.readouterr().err
    assert not ws.exists()


@pytest.mark.parametrize(
    ("size", "chunk", "per_task"),
    [
        (512, None, 32),
        (1024, None, 8),
        (4096, None, 1),
        (256, None, 64),
        (64, None, 64),
        (512, 5, 5),
    ],
)
def test_a_task_holds_about_24_mb_of_tiles_unless_chunk_says(size, chunk, per_task):
    from mining.params import TileParams

    assert TileParams(size=size, chunk=chunk).tiles_per_task() == per_task


def test_the_tiles_do_not_depend_on_the_task_size(tmp_path, raster, capsys):
    from tests.mining.helpers import rows

    a = raster("a.tif", 3, "uint16", seed=3)
    for ws, chunk in (("default", []), ("three", ["--chunk", "3"])):
        assert main(["tile", str(a), "-w", str(tmp_path / ws), "-q", "--size", "32", *chunk]) == 0
    assert len(rows(tmp_path / "default", "a")) == 64
    assert rows(tmp_path / "default", "a") == rows(tmp_path / "three", "a")
    assert main(["tile", str(a), "-w", str(tmp_path / "x"), "--chunk", "0"]) == 2
    assert "chunk" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("windows", "chunk", "tail", "sizes"),
    [
        (256, 32, 64, [32] * 6 + [8] * 8),
        (100, 32, 0, [32, 32, 32, 4]),
        (70, 32, 64, [6] + [8] * 8),
        (10, 32, 64, [8, 2]),
        (0, 32, 64, []),
        (5, 1, 2, [1] * 5),
    ],
)
def test_the_last_tail_windows_go_in_quarter_tasks(windows, chunk, tail, sizes):
    """Every window once, in order; the run's end in small tasks (the writer's tail)."""
    from types import SimpleNamespace

    from mining.tiler import chunk_tasks

    plan = SimpleNamespace(windows=tuple(range(windows)))
    thresholds = {"min_valid": 0.0, "min_std": 0.0, "max_saturated": 1.0, "png_compression": 0}
    tasks = chunk_tasks(plan, chunk, tail, **thresholds)
    assert [len(t.windows) for t in tasks] == sizes
    assert [w for t in tasks for w in t.windows] == list(range(windows))
