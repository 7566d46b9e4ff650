"""The report stage: gather, render into a temporary folder, swap it in as ``reports/``."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from blindpairs import atomic, freshness, lock
from blindpairs.compute import Compute
from blindpairs.errors import WorkspaceError
from blindpairs.workspace import Workspace
from report.freshness import STAMP_FILE, fingerprint, input_files, is_up_to_date
from report.inputs import gather
from report.page import render
from report.params import ReportParams
from report.thumbs import ASSETS, Assets

log = logging.getLogger(__name__)

BUILD_MARK = ".reports.tmp-"
OLD_MARK = ".reports.old-"


@dataclass(frozen=True)
class ReportSummary:
    """What a run did: ``written``, ``up to date`` or ``nothing to report``."""

    status: str
    path: Path
    failed: list[tuple[str, str]] = field(default_factory=list)
    assets: int = 0


def _clean_stale(root: Path) -> None:
    """Remove builds and swapped-out reports that a killed run left behind."""
    for path in root.iterdir():
        if path.name.startswith((BUILD_MARK, OLD_MARK)) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def _swap(build: Path, target: Path) -> None:
    """Put the folder ``build`` where ``target`` is, with ``target`` absent for one rename only."""
    old = target.with_name(f"{OLD_MARK}{uuid.uuid4().hex[:8]}")
    if target.exists():
        os.replace(target, old)
    os.replace(build, target)
    shutil.rmtree(old, ignore_errors=True)


@lock.locked("report", create=False)
def run_report(ws: Workspace, params: ReportParams) -> ReportSummary:
    """Write ``<ws>/reports/index.html`` and its ``assets/``, unless nothing changed."""
    if not ws.root.is_dir():
        raise WorkspaceError(f"{ws.root}: no such workspace; pass --workspace DIR")
    index = ws.report_page
    if not any(p.exists() for p in input_files(ws)):
        return ReportSummary("nothing to report", index)
    digest = fingerprint(ws, params)
    if not params.force and is_up_to_date(ws, digest):
        return ReportSummary("up to date", index)
    _clean_stale(ws.root)
    build = ws.root / f"{BUILD_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    build.mkdir()
    try:
        inputs = gather(ws, params)
        assets = Assets(build / ASSETS, params.thumb_size)
        html, failed = render(inputs, assets, params)
        atomic.write_text(build / "index.html", html)
        stamp = {
            freshness.FINGERPRINT: digest,
            "made": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "left_out": [{"what": w, "why": r} for w, r in failed],
        }
        atomic.write_json(build / STAMP_FILE, stamp)
        _swap(build, ws.reports)
    finally:
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)
    n_assets = len(list((ws.reports / ASSETS).glob("*.png")))
    return ReportSummary("written", index, failed, n_assets)


def run(workspace: Workspace | str | Path, params: ReportParams, compute: Compute) -> ReportSummary:
    """The report stage (:func:`run_report`; ``compute`` is unused: it runs in this process)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    return run_report(ws, params)
