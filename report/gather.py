"""Reading the tile and mine stages' outputs (through blindpairs.schemas) for the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from blindpairs import schemas
from blindpairs.errors import InputError
from blindpairs.workspace import Workspace
from report.geometry import outer_rings, ring_center
from report.source import READ_ERRORS, Source, load, read_json

SIMILARITY_COLUMNS = [n for n in schemas.CANDIDATES_SCHEMA.names if n.endswith("_sim")]


@dataclass(frozen=True)
class TileInfo:
    """Where one tile is: its scene, footprint ring (lon/lat) and centre."""

    tile_id: str
    scene_id: str
    ring: np.ndarray | None
    center: tuple[float, float] | None


@dataclass(frozen=True)
class Tiles:
    """Every tile's place, by tile id, and the parts they came from."""

    by_id: dict[str, TileInfo]
    parts: tuple[Path, ...]
    unreadable: dict[str, str] = field(default_factory=dict)  # part -> reason


@dataclass(frozen=True)
class Pairs:
    """pairs.parquet: rows in rank order and the file's metadata."""

    rows: list[dict[str, Any]]
    meta: dict[str, Any]

    @property
    def random_weights(self) -> bool:
        return bool(self.meta.get("random_weights"))

    @property
    def taus(self) -> tuple[float, float]:
        """``(tau_clip, tau_dino)`` of the run."""
        return float(self.meta.get("tau_clip", 0.95)), float(self.meta.get("tau_dino", 0.6))


@dataclass(frozen=True)
class Similarities:
    """CLIP and DINOv2 similarity of the pairs the scatter plot draws."""

    clip: np.ndarray
    dino: np.ndarray
    source: str  # "candidates" or "pairs"
    total: int  # before sampling


def read_tiles(ws: Workspace) -> Tiles:
    """Scene and footprint of every tile (the image column is not read)."""
    by_id: dict[str, TileInfo] = {}
    bad: dict[str, str] = {}
    parts = ws.tile_parts()
    for part in parts:
        try:
            table = schemas.read_tiles([part], columns=["tile_id", "scene_id", "geometry"])
        except READ_ERRORS as exc:
            bad[str(part)] = f"{type(exc).__name__}: {exc}"
            continue
        ids = table.column("tile_id").to_pylist()
        scenes = table.column("scene_id").to_pylist()
        rings = outer_rings(table.column("geometry").to_pylist())
        for tid, scene, ring in zip(ids, scenes, rings, strict=True):
            by_id[tid] = TileInfo(tid, scene, ring, ring_center(ring))
    return Tiles(by_id, tuple(parts), bad)


def read_tile_images(parts: tuple[Path, ...], wanted: set[str]) -> dict[str, bytes]:
    """PNG bytes of the ``wanted`` tiles (only those rows are kept in memory)."""
    out: dict[str, bytes] = {}
    if not wanted:
        return out
    keys = list(wanted)
    for part in parts:
        try:
            table = pq.read_table(part, columns=["tile_id", "image"])
        except READ_ERRORS:
            continue  # already reported by read_tiles
        table = table.filter(
            pc.is_in(table.column("tile_id"), value_set=pa.array(keys, pa.string()))
        )
        for tid, image in zip(
            table.column("tile_id").to_pylist(), table.column("image").to_pylist(), strict=True
        ):
            out[tid] = image
    return out


def _read_pairs(path: Path) -> Pairs:
    table = pq.read_table(path)
    missing = [
        c
        for c in ("tile_a", "tile_b", "clip_sim", "dino_sim", "rank")
        if c not in table.column_names
    ]
    if missing:
        raise InputError(str(path), f"not a pairs file: no column(s) {', '.join(missing)}")
    rows = sorted(table.to_pylist(), key=lambda r: (r["rank"] is None, r["rank"]))
    return Pairs(rows, schemas.read_metadata(path))


def read_pairs(ws: Workspace) -> Source[Pairs]:
    """The mine stage's pairs, best first."""
    return load(ws.pairs, _read_pairs)


def read_yield(ws: Workspace) -> Source[dict[str, Any]]:
    """The yield grid (pairs/yield.json), checked for a consistent shape."""

    def reader(path: Path) -> dict[str, Any]:
        grid = read_json(path)
        tc, td, counts = grid["tau_clip"], grid["tau_dino"], grid["pairs"]
        if len(counts) != len(tc) or any(len(row) != len(td) for row in counts):
            raise ValueError("'pairs' is not a tau_clip x tau_dino grid")
        return grid

    return load(ws.pair_yield, reader)


def read_similarities(ws: Workspace, pairs: Pairs | None, max_points: int) -> Source[Similarities]:
    """Candidate pairs' similarities if the mine stage kept them, else the selected pairs'."""

    def from_candidates(path: Path) -> Similarities:
        table = pq.read_table(path, columns=SIMILARITY_COLUMNS)
        return _sample(table.column("clip_sim"), table.column("dino_sim"), "candidates", max_points)

    found = load(ws.candidates, from_candidates)
    if found.value is not None or pairs is None:
        return found
    clip = [r["clip_sim"] for r in pairs.rows]
    dino = [r["dino_sim"] for r in pairs.rows]
    return Source(ws.pairs, _sample(clip, dino, "pairs", max_points))


def _sample(clip: Any, dino: Any, source: str, max_points: int) -> Similarities:
    c = np.asarray(clip, dtype=np.float64)
    d = np.asarray(dino, dtype=np.float64)
    ok = np.isfinite(c) & np.isfinite(d)
    c, d = c[ok], d[ok]
    total = len(c)
    if total > max_points:  # an even, deterministic sample
        keep = np.linspace(0, total - 1, max_points).round().astype(np.int64)
        c, d = c[keep], d[keep]
    return Similarities(c, d, source, total)
