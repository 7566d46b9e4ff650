"""Stages meet only through the core contract: Workspace paths and blindpairs.schemas."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from blindpairs import schemas
from blindpairs.errors import InputError
from blindpairs.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
STAGES = ("mining", "embeddings", "pairs", "annotation_export", "evaluation", "report")
PRIVATE_FILE = re.compile(r"^_\w+\.(parquet|json|jsonl)$")
# files one stage writes and another reads: named only by blindpairs/workspace.py
CROSS_STAGE = ("tasks.json", "candidates.parquet", "leaderboard.csv", "scores.json")


def _literals(package: str) -> dict[str, set[str]]:
    """String constants of a package's modules -> the modules using them."""
    out: dict[str, set[str]] = {}
    for path in sorted((REPO / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.setdefault(node.value, set()).add(str(path.relative_to(REPO)))
    return out


def test_no_stage_names_another_stage_s_private_file() -> None:
    owners: dict[str, set[str]] = {}
    for package in STAGES:
        for text in _literals(package):
            if PRIVATE_FILE.match(text):
                owners.setdefault(text, set()).add(package)
    shared = {name: sorted(pkgs) for name, pkgs in owners.items() if len(pkgs) > 1}
    assert shared == {}


def test_cross_stage_files_are_named_by_the_workspace_only() -> None:
    for package in STAGES:
        literals = _literals(package)
        used = {name: sorted(literals[name]) for name in CROSS_STAGE if name in literals}
        assert used == {}, package
    ws = Workspace("w")
    assert ws.tasks.name == "tasks.json" and ws.candidates.name == "candidates.parquet"
    assert ws.leaderboard.name == "leaderboard.csv" and ws.scores("r").name == "scores.json"


def test_exported_pairs_reader(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    assert schemas.read_exported_pairs(ws.tasks) == {}  # nothing exported yet
    ws.label_studio.mkdir(parents=True)
    tasks = [
        {"data": {"pair_id": "p2", "tile_a": "a", "tile_b": "b", "image_a": "x"}},
        {"data": {"pair_id": "p1", "tile_a": "c"}},
        {"data": {"note": "no pair id"}},
        "not a task",
    ]
    ws.tasks.write_text(json.dumps(tasks))
    pairs = schemas.read_exported_pairs(ws.tasks)
    assert list(pairs.items()) == [("p2", ("a", "b")), ("p1", ("c", ""))]
    ws.tasks.write_text("{broken")
    with pytest.raises(InputError, match=r"tasks.json: not readable JSON"):
        schemas.read_exported_pairs(ws.tasks)
    ws.tasks.write_text(json.dumps({"data": {}}))
    with pytest.raises(InputError, match=r"tasks.json: expected a JSON list"):
        schemas.read_exported_pairs(ws.tasks)
