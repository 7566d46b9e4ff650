"""Read and check the mine stage's inputs: tile footprints and two embedding sets."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from blindpairs import schemas
from blindpairs.errors import InputError, WorkspaceError
from blindpairs.workspace import REPLACED, Workspace

log = logging.getLogger(__name__)

TILE_COLUMNS = ["tile_id", "scene_id", "geometry", "gsd_m", "width", "height"]
# How far a stored unit vector's norm may drift from 1 by rounding alone, per stored type
# (float16 keeps 11 significant bits: a relative error up to ~5e-4 per component).
NORM_TOLERANCE: dict[str, float] = {"halffloat": 2e-3, "float": 1e-4, "double": 1e-4}
# Norms off by more than float32 rounding are rescaled (silently within the tolerance).
RESCALE_ABOVE = 1e-6


@dataclass(frozen=True)
class EmbeddingSet:
    """One encoder's vectors, L2-normalised, with its file metadata."""

    encoder_id: str
    folder: Path
    tile_ids: list[str]
    vectors: np.ndarray
    meta: dict[str, Any]

    @property
    def weights(self) -> str | None:
        return self.meta.get("weights")

    @property
    def random_weights(self) -> bool:
        return bool(self.meta.get("random_weights"))


@dataclass
class MineInputs:
    """Tiles that have both embeddings, aligned row by row, and the tiles left out."""

    tiles: pa.Table
    clip: EmbeddingSet
    dino: EmbeddingSet
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def tile_ids(self) -> list[str]:
        return self.clip.tile_ids

    def drop(self, bad: np.ndarray, reason: str) -> MineInputs:
        """These inputs without the tiles where ``bad`` is true, recorded as left out."""
        ids = self.tile_ids
        for i in np.flatnonzero(bad):
            self.left_out[ids[i]] = reason
        keep = np.flatnonzero(~bad)
        kept = [ids[i] for i in keep]
        return MineInputs(
            self.tiles.take(pa.array(keep)),
            _subset(self.clip, keep, kept),
            _subset(self.dino, keep, kept),
            self.left_out,
        )


def _part_holding(folder: Path, tile_id: str) -> Path:
    for part in sorted(folder.glob("part-*.parquet")):
        ids = schemas.read_table(part, columns=[schemas.EMBEDDING_ID]).column(0).to_pylist()
        if tile_id in ids:
            return part
    return folder


def norm_tolerance(folder: Path) -> float:
    """The norm tolerance of the coarsest vector type stored in ``folder``'s parts."""
    worst = min(NORM_TOLERANCE.values())
    for part in sorted(folder.glob("part-*.parquet")):
        vec = pq.read_schema(part).field(schemas.EMBEDDING_VECTOR).type
        name = str(getattr(vec, "value_type", vec))
        worst = max(worst, NORM_TOLERANCE.get(name, max(NORM_TOLERANCE.values())))
    return worst


def _normalise(folder: Path, vectors: np.ndarray, norms: np.ndarray) -> None:
    """Rescale vectors to unit norm in place; warn about those off by more than the
    stored type's rounding explains."""
    drift = np.abs(norms - 1.0)
    off = drift > norm_tolerance(folder)
    if off.any():
        log.warning("%s: %d vectors not L2-normalised; normalising them", folder, int(off.sum()))
    rescale = drift > RESCALE_ABOVE
    vectors[rescale] /= norms[rescale, None]


def load_embeddings(ws: Workspace, encoder_id: str) -> EmbeddingSet:
    """Read one encoder's parts; check id, dimension and values; normalise the vectors."""
    folder = ws.encoder_dir(encoder_id)
    if (folder / REPLACED).is_dir():
        raise WorkspaceError(
            f"{folder}: an 'embed --replace' was interrupted, so these embeddings are "
            "incomplete; run 'blindpairs embed' again (it finishes or rolls back the replacement)"
        )
    if not any(folder.glob("part-*.parquet")):
        raise WorkspaceError(
            f"{folder}: no embeddings of {encoder_id!r}; run 'blindpairs embed' with that "
            "encoder first (or choose --encoders / --clip / --dino)"
        )
    ids, vectors, meta = schemas.read_embeddings(folder)
    if meta.get("encoder_id") not in (None, encoder_id):
        raise InputError(
            str(folder), f"holds embeddings of {meta.get('encoder_id')!r}, not {encoder_id!r}"
        )
    if meta.get("dim") is not None and vectors.shape[1] != int(meta["dim"]):
        raise InputError(
            str(folder), f"vectors have dim {vectors.shape[1]}, metadata says {meta['dim']}"
        )
    finite = np.isfinite(vectors).all(axis=1)
    if not finite.all():
        bad = ids[int(np.flatnonzero(~finite)[0])]
        part = _part_holding(folder, bad)
        raise InputError(
            str(part),
            f"{int((~finite).sum())} vector(s) with NaN/inf, e.g. tile "
            f"{bad!r}; re-run embed for them",
        )
    norms = np.linalg.norm(vectors, axis=1)
    if (norms == 0).any():
        bad = ids[int(np.flatnonzero(norms == 0)[0])]
        raise InputError(str(_part_holding(folder, bad)), f"zero vector for tile {bad!r}")
    _normalise(folder, vectors, norms)
    if len(set(ids)) != len(ids):
        raise InputError(str(folder), "a tile id appears in more than one row; re-run embed")
    return EmbeddingSet(encoder_id, folder, ids, np.ascontiguousarray(vectors), meta)


def load_tiles(ws: Workspace) -> pa.Table:
    """The tile columns the mine stage needs, from every tile part."""
    parts = ws.tile_parts()
    if not parts:
        raise WorkspaceError(f"{ws.tiles}: no tile parts; run 'blindpairs tile' first")
    return schemas.read_tiles(parts, columns=TILE_COLUMNS)


def _subset(emb: EmbeddingSet, order: np.ndarray, ids: list[str]) -> EmbeddingSet:
    return EmbeddingSet(emb.encoder_id, emb.folder, ids, emb.vectors[order], emb.meta)


def align(tiles: pa.Table, clip: EmbeddingSet, dino: EmbeddingSet) -> MineInputs:
    """Keep tiles with a footprint and both embeddings, sorted by tile id; report the rest."""
    tile_ids = tiles.column("tile_id").to_pylist()
    clip_pos = {t: i for i, t in enumerate(clip.tile_ids)}
    dino_pos = {t: i for i, t in enumerate(dino.tile_ids)}
    left_out: dict[str, str] = {}
    keep_rows: dict[str, int] = {}
    for row, tid in enumerate(tile_ids):
        missing = [
            e.encoder_id for e, pos in ((clip, clip_pos), (dino, dino_pos)) if tid not in pos
        ]
        if missing:
            left_out[tid] = "no embedding from " + " and ".join(missing)
        else:
            keep_rows.setdefault(tid, row)
    for emb in (clip, dino):
        for tid in emb.tile_ids:
            if tid not in keep_rows and tid not in left_out:
                left_out[tid] = f"embedded by {emb.encoder_id} but not in tiles/"
    ids = sorted(keep_rows)
    table = tiles.take(pa.array([keep_rows[t] for t in ids], type=pa.int64()))
    c_order = np.array([clip_pos[t] for t in ids], dtype=np.int64)
    d_order = np.array([dino_pos[t] for t in ids], dtype=np.int64)
    return MineInputs(table, _subset(clip, c_order, ids), _subset(dino, d_order, ids), left_out)


def load_inputs(ws: Workspace, clip_id: str, dino_id: str) -> MineInputs:
    """Tiles and both embedding sets, checked and aligned."""
    tiles = load_tiles(ws)
    clip = load_embeddings(ws, clip_id)
    dino = load_embeddings(ws, dino_id)
    return align(tiles, clip, dino)
