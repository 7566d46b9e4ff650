"""Reading the benchmark, the leaderboard file and each run's scores and answers."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from blindpairs import schemas
from blindpairs.errors import InputError
from blindpairs.workspace import Workspace
from report.source import Source, load, read_json


@dataclass(frozen=True)
class Benchmark:
    """benchmark.parquet: items by index (MMVP order) and the file's metadata."""

    items: dict[int, dict[str, Any]]
    meta: dict[str, Any]

    def pairs(self) -> list[tuple[int, dict[str, Any] | None, dict[str, Any] | None]]:
        """``(pair number, item 2k-1, item 2k)`` for every pair with at least one item."""
        numbers = sorted({(i + 1) // 2 for i in self.items})
        return [(k, self.items.get(2 * k - 1), self.items.get(2 * k)) for k in numbers]


@dataclass(frozen=True)
class Run:
    """One evaluated model: its scores and its answers by benchmark index."""

    name: str
    scores: dict[str, Any]
    answers: dict[int, list[dict[str, Any]]]  # index -> responses.jsonl rows
    error: str | None = None  # why scores.json or responses.jsonl could not be read
    error_file: str = ""  # which of them


@dataclass(frozen=True)
class Evaluations:
    """The leaderboard (best first) and every run it lists."""

    leaderboard: list[dict[str, Any]]
    runs: dict[str, Run]


def _read_benchmark(path: Path) -> Benchmark:
    table = pq.read_table(path)
    missing = [c for c in schemas.BENCHMARK_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(str(path), f"not a benchmark: no column(s) {', '.join(missing)}")
    items = {
        int(r["index"]): {**r, "image": schemas.benchmark_image_bytes(r["image"])}
        for r in table.to_pylist()
    }
    return Benchmark(items, schemas.read_metadata(path))


def read_benchmark(ws: Workspace) -> Source[Benchmark]:
    """The published benchmark, if ingest has run."""
    return load(ws.benchmark_file, _read_benchmark)


def _read_responses(path: Path) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                out[int(row["index"])].append(row)
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(str(path), f"line {number}: not a response row ({exc})") from None
    return dict(out)


def _read_run(ws: Workspace, name: str) -> Run:
    """One leaderboard run's scores and answers; a run whose files are bad keeps its row."""
    try:
        scores_path, responses_path = ws.scores(name), ws.responses(name)
    except ValueError as exc:  # a run name that is not one safe file name
        return Run(name, {}, {}, str(exc), "evaluation/leaderboard.csv")
    scores = load(scores_path, read_json)
    answers = load(responses_path, _read_responses)
    if scores.missing or scores.error or not isinstance(scores.value, dict):
        why = scores.error or ("missing" if scores.missing else "not a JSON object")
        return Run(name, {}, answers.value or {}, why, f"{name}/scores.json")
    if answers.error:
        return Run(name, scores.value, {}, answers.error, f"{name}/responses.jsonl")
    return Run(name, scores.value, answers.value or {})


def read_evaluations(ws: Workspace) -> Source[Evaluations]:
    """The leaderboard (``evaluation/leaderboard.csv``) and every run it lists, in its order."""

    def reader(path: Path) -> Evaluations:
        rows = schemas.read_leaderboard(path)
        return Evaluations(rows, {r["run"]: _read_run(ws, r["run"]) for r in rows})

    return load(ws.leaderboard, reader)
