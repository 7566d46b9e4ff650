"""The report stage: every section from a workspace, escaping, missing stages, up to date."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
import yaml

from blindpairs.cli import main
from blindpairs.workspace import Workspace
from report.params import ReportParams
from report.stage import run_report
from tests.report.workspace_files import (
    MODEL_XSS,
    XSS,
    tile_id,
    write_benchmark,
    write_pairs,
    write_tiles,
)


def render(ws: Path, **options: object) -> tuple[str, object]:
    summary = run_report(Workspace(ws), ReportParams(**options))
    return (ws / "reports" / "index.html").read_text(encoding="utf-8"), summary


def test_full_report_shows_every_section_and_escapes_all_text(full_ws: Path) -> None:
    page, summary = render(full_ws)
    assert summary.status == "written" and summary.failed == []
    # nothing from annotations or models becomes markup; the page has no script at all
    assert "<script" not in page.lower() and "<img src=x" not in page
    assert html.escape(XSS) in page
    assert "yes &lt;b&gt;bold&lt;/b&gt;" in page
    assert html.escape(MODEL_XSS) in page  # the model's raw reply, in a tooltip
    for anchor in ("gallery", "scatter", "yield", "map", "leaderboard", "categories", "answers"):
        assert f'<section id="{anchor}">' in page
    assert "not available yet" not in page
    assert "RANDOM WEIGHTS" in page and "the mined pairs (random-weight encoders)" in page
    assert "pairs/candidates.parquet" in page  # the scatter says what it draws
    # the gallery is best first and every image it references was written
    ranks = [int(r) for r in re.findall(r'<span class="rank">#(\d+)</span>', page)]
    assert ranks == [1, 2, 3]
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert len(srcs) == 6 + 6  # 3 pairs x 2 tiles, 6 benchmark items
    assert all((full_ws / "reports" / s).is_file() for s in srcs)
    assert "44.99500 N, 10.00500 E" in page  # centre of tile alpha r0 c0 (pair 1)
    # both evaluated runs, with their intervals and per-item answers
    assert page.count("predictions-answers") >= 3 and "[6.1–79.2]" in page
    assert "unparsed" in page


def test_scatter_falls_back_to_selected_pairs_and_says_so(full_ws: Path) -> None:
    Workspace(full_ws).candidates.unlink()
    page, _ = render(full_ws)
    assert "selected pairs only" in page
    assert len(re.findall(r'<circle[^>]*class="pt', page)) == 3


def test_stages_not_run_yet_say_so(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    write_tiles(ws)
    page, summary = render(ws)
    assert summary.status == "written"
    assert page.count("not available yet") == 6  # all but the map
    assert "blindpairs mine" in page and "blindpairs evaluate" in page
    assert "RANDOM WEIGHTS" not in page


def test_benchmark_without_evaluations_lists_questions(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    write_tiles(ws)
    write_pairs(ws, random_weights=False)
    write_benchmark(ws)
    page, _ = render(ws)
    assert "No model has been evaluated yet." in page
    assert "&lt;script&gt;" in page and "<script" not in page


def test_bad_inputs_are_left_out_with_a_reason(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    write_tiles(ws, images={tile_id("alpha", 0, 0): b"not a png"})
    write_pairs(ws)
    (ws / "pairs" / "yield.json").write_text("{not json")
    page, summary = render(ws)
    assert summary.status == "written"
    reasons = dict(summary.failed)
    assert "not a readable image" in reasons[f"tile {tile_id('alpha', 0, 0)}"]
    assert any(what.endswith("yield.json") for what in reasons)
    assert "image missing" in page and "Could not read" in page
    assert '<section id="problems">' in page
    assert page.count("<img ") == 5  # the other tiles still show


def test_up_to_date_writes_nothing_until_an_input_or_option_changes(full_ws: Path) -> None:
    ws = Workspace(full_ws)
    assert run_report(ws, ReportParams()).status == "written"
    index = full_ws / "reports" / "index.html"
    before = index.stat().st_mtime_ns
    assert run_report(ws, ReportParams()).status == "up to date"
    assert index.stat().st_mtime_ns == before
    assert run_report(ws, ReportParams(max_pairs=1)).status == "written"
    assert run_report(ws, ReportParams(max_pairs=1)).status == "up to date"
    pairs = full_ws / "pairs" / "pairs.parquet"
    st = pairs.stat()
    os.utime(pairs, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert run_report(ws, ReportParams(max_pairs=1)).status == "written"
    assert run_report(ws, ReportParams(max_pairs=1, force=True)).status == "written"
    # old builds never linger next to reports/
    assert [p.name for p in full_ws.iterdir() if p.name.startswith(".reports")] == []


def test_report_command_prints_path_and_records_options(full_ws: Path, capsys) -> None:
    assert main(["report", "-w", str(full_ws), "--max-pairs", "2", "--thumb-size", "64"]) == 0
    out = capsys.readouterr().out
    assert str(full_ws / "reports" / "index.html") in out and "1 done" in out
    recorded = yaml.safe_load((full_ws / "config.yaml").read_text())["report"]
    assert recorded["max_pairs"] == 2 and recorded["thumb_size"] == 64
    assert main(["report", "-w", str(full_ws), "--max-pairs", "2", "--thumb-size", "64"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_bad_option_fails_before_any_work(full_ws: Path, capsys) -> None:
    assert main(["report", "-w", str(full_ws), "--thumb-size", "1"]) == 2
    assert "thumb_size" in capsys.readouterr().err
    assert not (full_ws / "reports").exists()


def test_empty_workspace_has_nothing_to_report(tmp_path: Path, capsys) -> None:
    assert main(["report", "-w", str(tmp_path)]) == 0
    assert "nothing to report" in capsys.readouterr().out
    assert not (tmp_path / "reports").exists()
    with pytest.raises(Exception, match="no such workspace"):
        run_report(Workspace(tmp_path / "absent"), ReportParams())
