"""Fixtures of the annotation tests (builders in tests/annotation_export/files.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from blindpairs.workspace import Workspace
from tests.annotation_export.files import write_pairs, write_tiles


@pytest.fixture
def ws(tmp_path) -> Workspace:
    """A workspace with 12 tiles in two scenes and 6 ranked pairs."""
    w = Workspace(tmp_path / "ws")
    a = write_tiles(w, "sceneA", 6, seed=1)
    b = write_tiles(w, "sceneB", 6, seed=2)
    write_pairs(w, list(zip(a, b, strict=True)))
    return w


@pytest.fixture
def ls_export(ws: Workspace) -> Callable[..., list[dict[str, Any]]]:
    """Build a Label Studio JSON export from ``{pair_id: [annotation, ...]}`` and tasks.json."""
    import json

    def build(annotations: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        tasks = json.loads((ws.label_studio / "tasks.json").read_text())
        out = []
        for i, t in enumerate(tasks, start=1):
            pid = t["data"]["pair_id"]
            if pid in annotations:
                out.append({"id": i, "data": t["data"], "annotations": annotations[pid]})
        return out

    return build
