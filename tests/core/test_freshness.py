"""One up-to-date mechanism (blindpairs.freshness) for mine, ingest, evaluate and report."""

from __future__ import annotations

import json
import os
from pathlib import Path

from blindpairs import freshness
from blindpairs.cli import main
from blindpairs.workspace import Workspace
from tests.evaluation.helpers import make_items, write_benchmark


def test_fingerprint_is_canonical_and_sensitive() -> None:
    a = freshness.fingerprint({"x": 1, "y": [1, 2]})
    assert a == freshness.fingerprint({"y": [1, 2], "x": 1})  # key order does not matter
    assert a != freshness.fingerprint({"x": 2, "y": [1, 2]})
    assert len(freshness.fingerprint("v", length=16)) == 16
    assert freshness.content_digest(b"ab", b"c") != freshness.content_digest(b"a", b"bc")


def test_file_stats_follow_size_mtime_and_absence(tmp_path: Path) -> None:
    f = tmp_path / "sub" / "a.bin"
    f.parent.mkdir()
    f.write_bytes(b"123")
    before = freshness.file_stats([f], tmp_path)
    assert before[0][:2] == [str(Path("sub") / "a.bin"), 3]
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert freshness.file_stats([f], tmp_path) != before
    assert freshness.file_stats([tmp_path / "gone"]) == [["gone", None]]


def test_stamp_is_fresh_only_with_its_digest_entries_and_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    out.write_text("x")
    stamp = freshness.Stamp(tmp_path / "_stamp.json", (out,))
    assert not stamp.is_fresh("d1")  # no stamp yet
    stamp.path.write_text(json.dumps({"fingerprint": "d1", "sha": "s"}))
    assert stamp.is_fresh("d1") and stamp.is_fresh("d1", {"sha": "s"})
    assert not stamp.is_fresh("d2")
    assert not stamp.is_fresh("d1", {"sha": "other"})
    out.unlink()
    assert not stamp.is_fresh("d1")  # an output is gone
    for garbage in ("{not json", "[1, 2]"):
        stamp.path.write_text(garbage)
        assert stamp.read() is None and not stamp.is_fresh("d1")
    keyed = freshness.Stamp(tmp_path / "scores.json", key="signature")
    keyed.path.write_text(json.dumps({"signature": "d1"}))
    assert keyed.is_fresh("d1")


def test_evaluate_redoes_a_run_whose_answers_are_gone(tmp_path: Path, capsys) -> None:
    ws = Workspace(tmp_path / "ws")
    write_benchmark(ws.benchmark, make_items(2))
    args = ["evaluate", "-w", str(ws.root), "-q", "--models", "random"]
    assert main(args) == 0
    assert main(args) == 0
    assert "(up to date, skipped)" in capsys.readouterr().out
    ws.responses("random").unlink()
    assert main(args) == 0
    assert "(up to date, skipped)" not in capsys.readouterr().out
    assert ws.responses("random").is_file()


def test_ingest_with_a_provenance_that_is_not_an_object_is_not_up_to_date(tmp_path: Path) -> None:
    from annotation_export.ingest import _up_to_date

    ws = Workspace(tmp_path)
    ws.benchmark.mkdir()
    ws.benchmark_file.write_bytes(b"x")
    ws.provenance.write_text("[1]")
    assert not _up_to_date(ws, "d")
    ws.provenance.write_text(json.dumps({"inputs": "d"}))
    assert _up_to_date(ws, "d")
