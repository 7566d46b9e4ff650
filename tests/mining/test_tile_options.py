"""The tile stage's run options (scenes, force, strict, drop_failed) and compute are config
keys, recorded in config.yaml; flags still win."""

from __future__ import annotations

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
    from mining.params import TileParams

    from .helpers import meta, tile

    a = raster("a.tif", seed=1)
    tile(tmp_path / "ws", [a], strict=True)
    recorded = meta(tmp_path / "ws", "a")
    assert not recorded["params"].get("scenes") and not recorded["params"].get("strict")
    assert TileParams(scenes=("x",), force=True).tiling_hash() == TileParams().tiling_hash()


def test_no_scenes_anywhere_fails_before_the_workspace_exists(tmp_path, capsys):
    ws = tmp_path / "ws"
    assert main(["tile", "-w", str(ws), "-q"]) == 2
    assert "no scenes given" in capsys.readouterr().err
    assert not ws.exists()
