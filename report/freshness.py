"""Whether the report is up to date: a hash of its options and its input files' stats."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from blindpairs.config import to_dict
from blindpairs.workspace import Workspace
from report.gather import CANDIDATES_FILE

# Bump when the page changes, so an upgrade re-renders old reports.
REPORT_VERSION = 1
STAMP_FILE = "_report.json"


def input_files(ws: Workspace) -> list[Path]:
    """Every file the report reads."""
    files = [
        *ws.tile_parts(),
        ws.pairs,
        ws.pair_yield,
        ws.pairs_dir / CANDIDATES_FILE,
        ws.benchmark_file,
        ws.leaderboard,
    ]
    for scores in ws.scored_runs():
        files += [scores, scores.parent / "responses.jsonl"]
    return files


def fingerprint(ws: Workspace, params: Any) -> str:
    """A hash of the options (``force`` aside) and of each input's name, size and mtime."""
    settings = {k: v for k, v in to_dict(params).items() if k != "force"}
    stats: list[Any] = []
    for path in input_files(ws):
        try:
            st = path.stat()
            stats.append([str(path.relative_to(ws.root)), st.st_size, st.st_mtime_ns])
        except OSError:
            stats.append([str(path.relative_to(ws.root)), None])
    blob = json.dumps([REPORT_VERSION, settings, stats], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def is_up_to_date(reports: Path, digest: str) -> bool:
    """The report in ``reports`` was made from exactly these inputs and options."""
    try:
        stamp = json.loads((reports / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(stamp, dict)
        and stamp.get("fingerprint") == digest
        and (reports / "index.html").exists()
    )
