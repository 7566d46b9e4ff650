"""Fixtures of the mine stage's tests (inputs written by tests/pairs/inputs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from blindpairs.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture(params=["float16", "bfloat16"])
def held_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The type large searches hold the CLIP rows in, forced both ways (pairs.bf16)."""
    from pairs import bf16

    monkeypatch.setenv(bf16.ENV, "1" if request.param == "bfloat16" else "0")
    bf16.enabled.cache_clear()
    yield request.param
    bf16.enabled.cache_clear()
