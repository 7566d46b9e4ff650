"""``blindpairs status``: what each stage has produced in a workspace, in one table.

It reads only the stages' public outputs (the files named in DESIGN.md) and their
file metadata, never the data itself, so it is quick on any workspace size.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from blindpairs.commands import Command
from blindpairs.schemas import read_metadata
from blindpairs.workspace import REPLACED, Workspace


@dataclass(frozen=True)
class StageState:
    stage: str
    ready: bool
    detail: str


def _rows(paths: list[Path]) -> int:
    return sum(pq.read_metadata(p).num_rows for p in paths)


def _tile(ws: Workspace) -> StageState:
    parts = ws.tile_parts()
    failed = _rows([ws.tile_failures]) if ws.tile_failures.exists() else 0
    detail = f"{_rows(parts)} tiles from {len(parts)} scenes" + (
        f", {failed} failures" if failed else ""
    )
    return StageState("tile", bool(parts), detail)


def _embed(ws: Workspace) -> StageState:
    dirs = (
        sorted(d for d in ws.embeddings.glob("*") if d.is_dir()) if ws.embeddings.exists() else []
    )
    items, gaps = [], []
    for d in dirs:
        parts = sorted(d.glob("part-*.parquet"))
        if not parts and not (d / REPLACED).is_dir():
            continue
        meta = read_metadata(parts[0]) if parts else {}
        flag = " (random weights)" if meta.get("random_weights") else ""
        gaps.append(_embed_gap(ws, d, _rows(parts)))
        items.append(f"{meta.get('encoder_id', d.name)}: {_rows(parts)}{flag}{gaps[-1]}")
    ready = bool(items) and not any(gaps)
    return StageState("embed", ready, "; ".join(items) or "no embeddings")


def _embed_gap(ws: Workspace, folder: Path, embedded: int) -> str:
    """Why an encoder folder is incomplete ('' when it is not): an interrupted
    ``--replace``, or fewer tiles embedded or failed than ``tiles/`` holds."""
    if (folder / REPLACED).is_dir():
        return " INCOMPLETE (an interrupted embed --replace; run embed)"
    failures = folder / "_failures.parquet"  # embeddings.store.FAILURES
    tiles = _rows(ws.tile_parts())
    missing = tiles - embedded - (_rows([failures]) if failures.exists() else 0)
    if missing <= 0:
        return ""
    return f" INCOMPLETE ({missing} of {tiles} tiles not embedded; run embed)"


def _mine(ws: Workspace) -> StageState:
    if not ws.pairs.exists():
        return StageState("mine", False, "no pairs")
    flag = " (random weights)" if read_metadata(ws.pairs).get("random_weights") else ""
    return StageState("mine", True, f"{pq.read_metadata(ws.pairs).num_rows} pairs{flag}")


def _export(ws: Workspace) -> StageState:
    tasks = ws.label_studio / "tasks.json"
    if not tasks.exists():
        return StageState("export", False, "no annotation tasks")
    return StageState("export", True, f"{len(json.loads(tasks.read_text()))} tasks in {tasks}")


def _ingest(ws: Workspace) -> StageState:
    path = ws.benchmark / "benchmark.parquet"
    if not path.exists():
        return StageState("ingest", False, "no published benchmark")
    rows = pq.read_metadata(path).num_rows
    return StageState("ingest", True, f"{rows // 2} pairs, {rows} questions in {ws.benchmark}")


def _evaluate(ws: Workspace) -> StageState:
    board = ws.evaluation / "leaderboard.csv"
    if not board.exists():
        return StageState("evaluate", False, "no model evaluated")
    with board.open(newline="", encoding="utf-8") as fh:
        runs = list(csv.DictReader(fh))
    return StageState("evaluate", True, f"{len(runs)} run(s) in {board}")


def _report(ws: Workspace) -> StageState:
    page = ws.reports / "index.html"
    return StageState("report", page.exists(), str(page) if page.exists() else "no report")


CHECKS: tuple[Callable[[Workspace], StageState], ...] = (
    _tile,
    _embed,
    _mine,
    _export,
    _ingest,
    _evaluate,
    _report,
)


def workspace_status(ws: Workspace) -> list[StageState]:
    """The state of every stage's output in ``ws``."""
    return [check(ws) for check in CHECKS]


def _run(args: argparse.Namespace) -> int:
    ws = Workspace(args.workspace)
    print(f"workspace {ws.root}")
    for state in workspace_status(ws):
        print(f"  {state.stage:9s} {'ok' if state.ready else '--':3s} {state.detail}")
    return 0


COMMANDS = [
    Command(
        "status",
        "show what each stage has produced in the workspace",
        lambda p: None,
        _run,
    )
]
