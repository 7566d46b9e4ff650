"""Core tests: no workspace lock outlives its test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from blindpairs import lock


@pytest.fixture(autouse=True)
def _release_locks() -> Iterator[None]:
    yield
    lock.release_all()
