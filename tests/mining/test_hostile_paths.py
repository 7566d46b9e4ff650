"""Scene paths as found in the wild: symlink loops, glob characters, terminal escapes."""

from __future__ import annotations

import os

from blindpairs.cli import main
from blindpairs.workspace import Workspace

from .helpers import tile


def test_a_symlink_loop_is_a_failed_scene_and_the_others_go_on(tmp_path, scenes_dir, raster):
    good = raster("good.tif", seed=1)
    loop = scenes_dir / "loop.tif"
    os.symlink(loop, loop)  # points at itself
    summary = tile(tmp_path / "ws", [good, loop])
    assert summary.new == ["good"]
    (reason,) = dict(summary.failed).values()
    assert reason.startswith(f"symlink loop: {loop} leads back to itself"), reason
    # the same through a glob and a folder
    by_glob = tile(tmp_path / "ws2", [scenes_dir / "*.tif"])
    assert by_glob.new == ["good"] and len(by_glob.failed) == 1
    assert "symlink loop" in by_glob.failed[0][1]
    by_folder = tile(tmp_path / "ws3", [scenes_dir])
    assert by_folder.new == ["good"] and len(by_folder.failed) == 1


def test_a_file_named_with_glob_characters_tiles(tmp_path, raster) -> None:
    path = raster("scene[1].tif", seed=2)
    raster("scene1.tif", seed=3)  # what the name would match as a pattern
    summary = tile(tmp_path / "ws", [path])
    assert not summary.failed and len(summary.new) == 1
    (part,) = Workspace(tmp_path / "ws").tile_parts()
    assert "scene1.tif" not in part.read_bytes().decode("latin-1")


def test_terminal_escapes_in_file_names_are_printed_escaped(tmp_path, scenes_dir, capsys):
    evil = scenes_dir / "evil\x1b[31m\x07.tif"
    evil.write_bytes(b"not a raster")
    rc = main(["tile", str(evil), "-w", str(tmp_path / "ws"), "-q", "--size", "64"])
    assert rc == 1  # nothing could be tiled
    out = capsys.readouterr()
    assert "\x1b" not in out.out + out.err and "\x07" not in out.out + out.err
    assert "evil\\x1b[31m\\x07.tif" in out.err
