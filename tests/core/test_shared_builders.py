"""Tests share one tile-part builder and import helpers from modules, never from conftest."""

from __future__ import annotations

import ast
from pathlib import Path

from blindpairs import schemas
from blindpairs.footprints import wkb_center
from blindpairs.workspace import Workspace
from tests.tiles import Tile, write_tile_part

TESTS = Path(__file__).resolve().parents[1]


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(TESTS.rglob("*.py"))]


def test_no_test_module_imports_from_a_conftest() -> None:
    offenders = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("conftest"):
                offenders.append(str(path.relative_to(TESTS)))
    assert offenders == []


def _names_tiles_schema(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "TILES_SCHEMA") or (
        isinstance(node, ast.Name) and node.id == "TILES_SCHEMA"
    )


def test_only_the_shared_builder_writes_tile_parts_by_hand() -> None:
    users = sorted(
        str(path.relative_to(TESTS))
        for path, tree in _modules()
        if any(_names_tiles_schema(n) for n in ast.walk(tree))
    )
    # the tile stage's own test compares its output with the schema, and the test of
    # blindpairs.columns builds tables of it (no part written); nothing else builds parts
    assert users == ["core/test_columns.py", "mining/test_tile_stage.py", "tiles.py"]


def test_builder_parts_read_back_through_the_contract(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    tiles = [
        Tile("s-a", (10.0, 45.0, 10.01, 45.01), b"x"),
        Tile("s-b", (10.01, 45.0, 10.02, 45.01)),
    ]
    path = write_tile_part(ws, "s", tiles)
    assert ws.tile_parts() == [path]
    table = schemas.read_tiles([path])
    assert table.schema.names == list(schemas.TILE_COLUMNS)
    assert table.column("tile_id").to_pylist() == ["s-a", "s-b"]
    assert table.column("row_off").to_pylist() == [0, 32]
    lon, lat = wkb_center(table.column("geometry")[0].as_py())
    assert abs(lon - 10.005) < 1e-9 and abs(lat - 45.005) < 1e-9
