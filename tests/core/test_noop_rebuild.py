"""A no-op rebuild is cheap: a chain runs in one process, imports no heavy library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from blindpairs import cli
from mining import example

HEAVY = ("torch", "open_clip", "timm", "distributed", "dask", "faiss", "pandas", "rasterio")


def test_split_chain_on_lone_plus_tokens() -> None:
    assert cli.split_chain(["tile", "a+b.tif", "-w", "W", "+", "embed", "-w", "W"]) == [
        ["tile", "a+b.tif", "-w", "W"],
        ["embed", "-w", "W"],
    ]
    assert cli.split_chain(["+", "status", "+", "+"]) == [["status"]]


def test_a_chain_runs_each_command_and_stops_at_the_first_failure(tmp_path, capsys) -> None:
    assert cli.main(["encoders", "+", "encoders"]) == 0
    assert capsys.readouterr().out.count("clip-tiny-random") == 2
    # embed on a workspace without tiles fails (rc 2): the next command never runs
    rc = cli.main(["embed", "-w", str(tmp_path / "empty"), "+", "encoders"])
    captured = capsys.readouterr()
    assert rc == 2 and "no tile parts" in captured.err
    assert "clip-tiny-random" not in captured.out


def test_building_the_cli_imports_no_heavy_library() -> None:
    code = (
        "import sys; from blindpairs.cli import build_parser; build_parser(); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.strip() == ""


def test_example_scenes_are_not_generated_again(tmp_path, monkeypatch) -> None:
    first = example.write_example_scenes(tmp_path)
    stamps = {p: p.stat().st_mtime_ns for p in first}
    calls: list[Path] = []
    real_write = example._write

    def counting(folder: Path) -> list[Path]:
        calls.append(folder)
        return real_write(folder)

    monkeypatch.setattr(example, "_write", counting)
    assert example.write_example_scenes(tmp_path) == first and calls == []
    assert {p: p.stat().st_mtime_ns for p in first} == stamps
    # a scene changed or removed behind its back: generated again, same bytes
    first[0].write_bytes(b"not a tiff")
    example.write_example_scenes(tmp_path)
    assert len(calls) == 1 and first[0].read_bytes()[:2] in (b"II", b"MM")
    first[1].unlink()
    example.write_example_scenes(tmp_path)
    assert len(calls) == 2 and first[1].is_file()


@pytest.mark.parametrize("bad", ["{not json", '{"key": "other", "files": {}}'])
def test_a_bad_manifest_means_generate(tmp_path, monkeypatch, bad) -> None:
    called: list[Path] = []
    monkeypatch.setattr(example, "_write", lambda folder: called.append(folder) or [])
    (tmp_path / example.MANIFEST).write_text(bad)
    example.write_example_scenes(tmp_path)
    assert called == [tmp_path]
