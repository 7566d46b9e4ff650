"""The tile stage's messages say what is true and what to do."""

from __future__ import annotations

import subprocess
import sys

import pytest

from blindpairs.cli import main

from .helpers import tile


def test_help_shows_a_percent_sign_not_an_argparse_dict():
    out = subprocess.run(
        [sys.executable, "-m", "blindpairs", "tile", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(out.split())
    assert "covering 30% or more of the scene" in flat and "option_strings" not in out


def test_a_misspelled_option_prints_the_stage_usage(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["tile", "x.tif", "--sise", "64", "-w", str(tmp_path / "ws")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage: blindpairs tile" in err and "unrecognized arguments: --sise" in err
    assert not (tmp_path / "ws").exists()


def test_scene_smaller_than_a_tile_asks_for_a_finer_gsd(tmp_path, raster):
    small = raster("small.tif", height=40, width=40)
    summary = tile(tmp_path / "ws", [small])
    (reason,) = dict(summary.failed).values()
    assert "a finer (smaller) --gsd" in reason and "coarser" not in reason
    assert "--edge pad with a --min-valid" in reason


def test_pad_on_a_small_scene_says_to_lower_min_valid(tmp_path, raster):
    small = raster("small.tif", height=40, width=40)
    summary = tile(tmp_path / "ws", [small], edge="pad")
    assert summary.tiles_written == 0 and summary.dropped["low_valid"] == 1
    assert any("at most 39% valid" in n and "--min-valid" in n for n in summary.notes)
    kept = tile(tmp_path / "ws2", [small], edge="pad", min_valid=0.3)
    assert kept.tiles_written == 1 and not any("--min-valid" in n for n in kept.notes)
