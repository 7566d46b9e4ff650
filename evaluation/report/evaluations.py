"""Reading the benchmark and the evaluate stage's runs (scores, responses) for the report."""

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
from evaluation.leaderboard import collect
from evaluation.report.source import Source, load, read_json

BENCHMARK_FILE = "benchmark.parquet"


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
    error: str | None = None  # responses.jsonl unreadable


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
    return load(ws.benchmark / BENCHMARK_FILE, _read_benchmark)


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


def read_evaluations(ws: Workspace) -> Source[Evaluations]:
    """Every finished run (``<run>/scores.json``) with its answers, leaderboard order."""
    folder = ws.evaluation
    if not any(folder.glob("*/scores.json")):
        return Source(folder)
    rows = collect(folder)
    runs: dict[str, Run] = {}
    for row in rows:
        run_dir = folder / row["run"]
        scores = read_json(run_dir / "scores.json")
        answers = load(run_dir / "responses.jsonl", _read_responses)
        runs[row["run"]] = Run(row["run"], scores, answers.value or {}, answers.error)
    return Source(folder, Evaluations(rows, runs))
