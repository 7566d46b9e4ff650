"""Fixtures of the report tests (stage outputs written by tests/report/workspace_files.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.workspace_files import (
    write_benchmark,
    write_candidates,
    write_evaluations,
    write_pairs,
    write_tiles,
)


@pytest.fixture
def full_ws(tmp_path: Path) -> Path:
    """Every stage's output, the evaluation runs included."""
    ws = tmp_path / "ws"
    write_tiles(ws)
    write_pairs(ws)
    write_candidates(ws)
    write_benchmark(ws)
    write_evaluations(ws)
    return ws
