"""Fixtures of the evaluate tests (builders and the fake server in tests/evaluation/helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.evaluation.helpers import SECRET, FakeChatServer, make_items, write_benchmark


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(6))
    return ws


@pytest.fixture
def chat_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeChatServer]:
    monkeypatch.setenv("TEST_LLM_KEY", SECRET)
    with FakeChatServer() as server:
        yield server
