"""Fixtures of the mine stage's tests (inputs written by tests/pairs/inputs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from blindpairs.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")
