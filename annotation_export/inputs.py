"""Reading the mine stage's pairs and the tile stage's tiles (through blindpairs.schemas)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from blindpairs import png
from blindpairs.errors import InputError, WorkspaceError
from blindpairs.schemas import PAIRS_SCHEMA, read_metadata, read_table
from blindpairs.workspace import Workspace

TILE_INFO_COLUMNS = ["tile_id", "scene_id", "scene_uri", "gsd_m", "geometry"]


def read_pairs(ws: Workspace) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The pairs best first (by ``rank``, then largest gap) and the file's metadata."""
    path = ws.pairs
    if not path.is_file():
        raise WorkspaceError(f"{path}: no pairs; run `blindpairs mine` first")
    try:
        table = read_table(path)  # not pq.read_table: pyarrow.dataset imports pandas
        meta = read_metadata(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(str(path), f"not a readable parquet file: {exc}") from None
    missing = [n for n in ("pair_id", "tile_a", "tile_b") if n not in table.column_names]
    if missing:
        raise InputError(str(path), f"missing column(s) {', '.join(missing)}")
    known = [n for n in PAIRS_SCHEMA.names if n in table.column_names]
    rows = table.select(known).to_pylist()

    def key(row: dict[str, Any]) -> tuple:
        rank = row.get("rank")
        gap = row.get("gap")
        return (rank is None, rank or 0, -(gap or 0.0), str(row["pair_id"]))

    return sorted(rows, key=key), meta


def read_tile_rows(ws: Workspace, tile_ids: set[str], with_image: bool) -> dict[str, dict]:
    """Rows of the tiles in ``tile_ids`` (info columns, plus ``image`` when asked)."""
    columns = TILE_INFO_COLUMNS + (["image"] if with_image else [])
    found: dict[str, dict] = {}
    if not tile_ids:
        return found
    wanted = pa.array(sorted(tile_ids), pa.string())
    for part in ws.tile_parts():
        try:
            present = pq.read_schema(part).names
            cols = [c for c in columns if c in present]
            table = pq.read_table(part, columns=cols, filters=[("tile_id", "in", wanted)])
        except (OSError, pa.ArrowException) as exc:
            raise InputError(str(part), f"not a readable tiles part: {exc}") from None
        for row in table.to_pylist():
            if row["tile_id"] not in found:
                found[row["tile_id"]] = _compacted(row) if with_image else row
    return found


def _compacted(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with its PNG compressed for leaving the workspace (tiles may be stored
    uncompressed, ``tile --png-compression 0``); an image that does not decode is kept
    as it is, for the caller to report."""
    try:
        return {**row, "image": png.compact(row.get("image") or b"")}
    except ValueError:
        return row


def relative_to(path: Path, root: Path) -> Path | None:
    """``path`` relative to ``root`` after resolving links and ``..``; None when outside."""
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        return None
