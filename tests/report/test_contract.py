"""The report is its own stage: it reads the leaderboard file, never evaluation's code."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import pytest

from blindpairs import schemas
from blindpairs.errors import InputError
from blindpairs.workspace import Workspace
from report.params import ReportParams
from report.stage import run_report

REPORT_PACKAGE = Path(__file__).resolve().parents[2] / "report"


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_report_package_imports_no_other_stage() -> None:
    modules = sorted(REPORT_PACKAGE.glob("*.py"))
    assert modules, "the report package is missing"
    stages = {"mining", "embeddings", "pairs", "annotation_export", "evaluation"}
    for module in modules:
        assert not _imported_packages(module) & stages, module.name


def _edit_leaderboard(ws: Workspace, **cells: str) -> None:
    with open(ws.leaderboard, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    rows[0].update(cells)
    with open(ws.leaderboard, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def test_leaderboard_is_read_from_its_file(full_ws: Path) -> None:
    ws = Workspace(full_ws)
    rows = schemas.read_leaderboard(ws.leaderboard)
    assert {r["run"] for r in rows} == {"random", "predictions-answers"}
    # typed back: a False cell is False (not the truthy string "False"), numbers are numbers
    assert all(isinstance(r["complete"], bool) and isinstance(r["pairs"], int) for r in rows)
    assert all(r["random_weights"] is not None for r in rows)
    first = rows[0]["run"]
    _edit_leaderboard(ws, model="edited-in-the-file")
    run_report(ws, ReportParams())
    page = ws.report_page.read_text(encoding="utf-8")
    assert "edited-in-the-file" in page and first in page


def test_a_bad_leaderboard_cell_is_named_and_left_out(full_ws: Path) -> None:
    ws = Workspace(full_ws)
    _edit_leaderboard(ws, pairs="many")
    with pytest.raises(InputError, match=r"leaderboard.csv: line 2, column pairs"):
        schemas.read_leaderboard(ws.leaderboard)
    summary = run_report(ws, ReportParams())
    assert summary.status == "written"
    assert any(what.endswith("leaderboard.csv") for what, _ in summary.failed)
    page = ws.report_page.read_text(encoding="utf-8")
    assert "Could not read" in page and '<section id="answers">' in page


def test_a_run_whose_scores_are_gone_keeps_its_row(full_ws: Path) -> None:
    ws = Workspace(full_ws)
    ws.scores("random").unlink()
    summary = run_report(ws, ReportParams())
    assert ("random/scores.json", "missing") in summary.failed
