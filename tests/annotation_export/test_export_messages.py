"""What export says when mine found no pair."""

from __future__ import annotations

from blindpairs.cli import main
from blindpairs.workspace import Workspace

from .files import write_pairs, write_tiles


def test_export_with_zero_pairs_says_mine_found_none(tmp_path, capsys) -> None:
    ws = Workspace(tmp_path / "ws")
    write_tiles(ws, "s1", 4)
    write_pairs(ws, [])
    assert main(["export", "-w", str(ws.root), "-q"]) == 0
    out = capsys.readouterr().out
    assert "holds no pair (mine found none" in out and "all 0 pair(s)" not in out
