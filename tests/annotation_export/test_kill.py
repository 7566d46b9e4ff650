"""Ingest killed (SIGKILL, a real process) between the two renames of its folder swap."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from annotation_export.export import export_workspace
from annotation_export.params import ExportParams
from blindpairs.cli import main
from blindpairs.workspace import Workspace

from .files import annotation, result

ROOT = Path(__file__).resolve().parents[2]


def _numbers(ws: Workspace) -> dict[str, int]:
    rows = pq.read_table(ws.benchmark / "benchmark.parquet", columns=["index", "pair_id"])
    return {p: (i + 1) // 2 for i, p in zip(*rows.to_pydict().values(), strict=True)}


def test_a_kill_mid_swap_never_renumbers_published_pairs(
    ws: Workspace, ls_export, tmp_path: Path
) -> None:
    export_workspace(ws, ExportParams(budget=4))
    first = tmp_path / "first.json"
    first.write_text(json.dumps(ls_export({p: [annotation(result())] for p in ("p001", "p003")})))
    assert main(["ingest", "-w", str(ws.root), "-q", "--annotations", str(first)]) == 0
    published = _numbers(ws)
    assert published == {"p001": 1, "p003": 2}

    # the export order (best first) would number p000 first if the ledger were lost
    grown = tmp_path / "grown.json"
    every = ("p000", "p001", "p002", "p003")
    grown.write_text(json.dumps(ls_export({p: [annotation(result())] for p in every})))
    argv = ["ingest", "-w", str(ws.root), "-q", "--annotations", str(grown)]
    killed = subprocess.run(
        [sys.executable, "-m", "tests.core.killing_cli", r"^benchmark -> \.benchmark\.old-", *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not ws.benchmark.exists()  # killed with the old folder set aside, the new not in
    assert list(ws.root.glob(".benchmark.old-*")) and list(ws.root.glob(".benchmark.tmp-*"))

    assert main(argv) == 0
    after = _numbers(ws)
    assert {p: after[p] for p in published} == published
    assert after == {"p001": 1, "p003": 2, "p000": 3, "p002": 4}
    assert not list(ws.root.glob(".benchmark.*"))
