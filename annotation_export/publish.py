"""Publishing ``<workspace>/benchmark/``: stable numbering, all formats, one folder swap."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from annotation_export.card import dataset_card
from annotation_export.formats import FORMATS, Row
from annotation_export.tool_configs import write_lmms_eval, write_vlmevalkit
from blindpairs.workspace import BENCHMARK_FILE, PROVENANCE_FILE, Workspace

PROVENANCE = PROVENANCE_FILE


def previous_numbers(folder: Path) -> dict[str, int]:
    """Pair numbers already given out (kept even for pairs later dropped)."""
    try:
        ledger = json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))["pair_numbers"]
        return {str(k): int(v) for k, v in ledger.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    try:
        table = pq.read_table(folder / BENCHMARK_FILE, columns=["index", "pair_id"])
    except Exception:  # noqa: BLE001 - no or unreadable earlier benchmark: start afresh
        return {}
    return {p: (i + 1) // 2 for i, p in zip(*table.to_pydict().values(), strict=True)}


def assign_numbers(previous: dict[str, int], pair_ids: list[str]) -> dict[str, int]:
    """Keep earlier pair numbers; append new pairs after the highest one, in order."""
    numbers = dict(previous)
    top = max(numbers.values(), default=0)
    for pair_id in pair_ids:
        if pair_id not in numbers:
            top += 1
            numbers[pair_id] = top
    return numbers


def _swap_in(ws: Workspace, built: Path) -> None:
    target = ws.benchmark
    old = ws.root / f".benchmark.old-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    if target.exists():
        os.replace(target, old)
    os.replace(built, target)
    shutil.rmtree(old, ignore_errors=True)


def clean_stale(ws: Workspace) -> None:
    """Remove half-built folders of killed runs; restore a benchmark lost mid-swap.

    Ingest calls it before reading anything (the pair-number ledger above all), so
    a kill between the swap's two renames never renumbers published pairs.
    """
    if not ws.root.is_dir():
        return
    olds = sorted(ws.root.glob(".benchmark.old-*"), key=lambda p: p.stat().st_mtime_ns)
    if olds and not ws.benchmark.exists():
        os.replace(olds[-1], ws.benchmark)
    for path in ws.root.glob(".benchmark.*"):
        shutil.rmtree(path, ignore_errors=True)


def publish(ws: Workspace, rows: list[Row], info: dict[str, Any], provenance: dict) -> None:
    """Write every format, the card and provenance into a new folder, then swap it in."""
    clean_stale(ws)
    built = ws.root / f".benchmark.tmp-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    built.mkdir(parents=True)
    try:
        meta = {k: info[k] for k in ("random_weights", "policy", "license", "pairs_meta", "mining")}
        for writer in FORMATS.values():
            writer(built, rows, meta)
        target = ws.benchmark.resolve()
        write_lmms_eval(built, target)
        write_vlmevalkit(built, target)
        (built / "README.md").write_text(dataset_card(rows, info), encoding="utf-8")
        (built / PROVENANCE).write_text(
            json.dumps(provenance, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
        )
        _swap_in(ws, built)
    finally:
        if built.exists():
            shutil.rmtree(built, ignore_errors=True)
