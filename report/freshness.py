"""Whether the report is up to date: a hash of its options and its input files' stats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from blindpairs import freshness
from blindpairs.config import to_dict
from blindpairs.workspace import Workspace

# Bump when the page changes, so an upgrade re-renders old reports.
REPORT_VERSION = 1
STAMP_FILE = "_report.json"


def input_files(ws: Workspace) -> list[Path]:
    """Every file the report reads."""
    files = [
        *ws.tile_parts(),
        ws.pairs,
        ws.pair_yield,
        ws.candidates,
        ws.benchmark_file,
        ws.leaderboard,
    ]
    for run in ws.scored_runs():
        files += [ws.scores(run), ws.responses(run)]
    return files


def fingerprint(ws: Workspace, params: Any) -> str:
    """A hash of the options (``force`` aside) and of each input's name, size and mtime."""
    settings = {k: v for k, v in to_dict(params).items() if k != "force"}
    stats = freshness.file_stats(input_files(ws), ws.root)
    return freshness.fingerprint([REPORT_VERSION, settings, stats], length=20)


def stamp(ws: Workspace) -> freshness.Stamp:
    """Where the report records what it was made from."""
    return freshness.Stamp(ws.reports / STAMP_FILE, (ws.report_page,))


def is_up_to_date(ws: Workspace, digest: str) -> bool:
    """The report in ``reports/`` was made from exactly these inputs and options."""
    return stamp(ws).is_fresh(digest)
