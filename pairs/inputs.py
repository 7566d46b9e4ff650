"""Read and check the mine stage's inputs: tile footprints and two embedding sets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from blindpairs import schemas
from blindpairs.errors import InputError, WorkspaceError
from blindpairs.workspace import REPLACED, Workspace
from pairs.rows import FileHashes, PartRows
from pairs.vector_hash import row_hashes
from pairs.vector_parts import VectorParts
from pairs.widen import narrow_into

TILE_COLUMNS = ["tile_id", "scene_id", "geometry", "gsd_m", "width", "height"]
# Up to this many tiles both vector sets are held in memory as float32. Above it the
# CLIP vectors are held as float16 for the search and the DINOv2 vectors are not read
# until the search is done: both are read back exactly (float32) from the parts for the
# candidate pairs only, so the results do not depend on this limit (see pairs.rows).
HOLD_FLOAT32_MAX = 100_000


@dataclass(frozen=True)
class EmbeddingSet:
    """One encoder's vectors, L2-normalised, with its file metadata and per-row hashes.

    ``vectors`` is a float32 array, or a :class:`~pairs.rows.PartRows` (rows read
    from the parts on demand) above :data:`HOLD_FLOAT32_MAX` tiles.
    """

    encoder_id: str
    folder: Path
    tile_ids: list[str]
    vectors: np.ndarray | PartRows
    meta: dict[str, Any]
    known_hashes: np.ndarray | None  # None: not read yet (the rows' own hashes() reads)

    @property
    def hashes(self) -> np.ndarray:
        """:func:`pairs.vector_hash.row_hashes` of each float32 unit row; for DINOv2 rows
        not read at load, computed by the first pass over their parts."""
        if self.known_hashes is not None:
            return self.known_hashes
        if not isinstance(self.vectors, PartRows):
            raise ValueError(f"{self.folder}: no hashes and no parts to compute them from")
        return self.vectors.hashes()

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


def _open(ws: Workspace, encoder_id: str) -> VectorParts:
    """One encoder's parts, checked (id, dimension, unique tile ids); no vectors read."""
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
    parts = VectorParts.open(folder)
    meta = parts.meta
    if meta.get("encoder_id") not in (None, encoder_id):
        raise InputError(
            str(folder), f"holds embeddings of {meta.get('encoder_id')!r}, not {encoder_id!r}"
        )
    if parts.ids and meta.get("dim") is not None and parts.dim != int(meta["dim"]):
        raise InputError(str(folder), f"vectors have dim {parts.dim}, metadata says {meta['dim']}")
    if len(set(parts.ids)) != len(parts.ids):
        raise InputError(str(folder), "a tile id appears in more than one row; re-run embed")
    return parts


def _read(
    parts: VectorParts, source: np.ndarray, dtype: type | None
) -> tuple[np.ndarray | None, np.ndarray]:
    """Read every vector once (checked, unit norm): the rows ``source`` (file rows, in
    output order) as ``dtype`` (None: not kept) and their hashes.

    The rows go straight into one preallocated array, a batch at a time.
    """
    n = len(source)
    dest = np.full(len(parts.ids), -1, dtype=np.int64)
    dest[source] = np.arange(n)
    out = np.empty((n, parts.dim), dtype=dtype) if dtype is not None else None
    hashes = np.empty(n, dtype=np.uint64)

    def keep(first: int, x: np.ndarray) -> None:  # runs in the reader threads
        d = dest[first : first + len(x)]
        mine = d >= 0
        rows = x if mine.all() else x[mine]
        to: slice | np.ndarray = d[mine]
        if len(to) and to[-1] - to[0] == len(to) - 1 and (np.diff(to) == 1).all():
            to = slice(int(to[0]), int(to[-1]) + 1)  # a run in the same order: no scatter
        hashes[to] = row_hashes(rows)
        if out is not None and isinstance(to, slice):
            narrow_into(out[to], rows)
        elif out is not None:
            out[to] = rows

    parts.warn_unnormalised(parts.visit(keep))
    return out, hashes


def _held(parts: VectorParts, source: np.ndarray, ids: list[str], encoder_id: str) -> EmbeddingSet:
    vectors, hashes = _read(parts, source, np.float32)
    return EmbeddingSet(encoder_id, parts.folder, ids, vectors, parts.meta, hashes)


def _streamed(
    parts: VectorParts, source: np.ndarray, ids: list[str], encoder_id: str
) -> EmbeddingSet:
    """Rows read once now: held as float16 (for the search), and hashed."""
    held, hashes = _read(parts, source, np.float16)
    rows = PartRows(dataclasses.replace(parts, ids=[]), source, held)
    return EmbeddingSet(encoder_id, parts.folder, ids, rows, parts.meta, hashes)


def _unread(
    parts: VectorParts, source: np.ndarray, ids: list[str], encoder_id: str
) -> EmbeddingSet:
    """Rows not read now: read back where needed; hashed by the first pass that reads
    every part (the candidates' similarities; or, on an incremental run, the check of
    which tiles changed)."""
    rows = PartRows(dataclasses.replace(parts, ids=[]), source, None, FileHashes())
    return EmbeddingSet(encoder_id, parts.folder, ids, rows, parts.meta, None)


def load_embeddings(ws: Workspace, encoder_id: str) -> EmbeddingSet:
    """Read one encoder's parts (float32, file order); check id, dimension and values;
    normalise the vectors."""
    parts = _open(ws, encoder_id)
    return _held(parts, np.arange(len(parts.ids)), parts.ids, encoder_id)


def load_tiles(ws: Workspace) -> pa.Table:
    """The tile columns the mine stage needs, from every tile part."""
    parts = ws.tile_parts()
    if not parts:
        raise WorkspaceError(f"{ws.tiles}: no tile parts; run 'blindpairs tile' first")
    return schemas.read_tiles(parts, columns=TILE_COLUMNS)


def _subset(emb: EmbeddingSet, order: np.ndarray, ids: list[str]) -> EmbeddingSet:
    vectors = emb.vectors[order] if isinstance(emb.vectors, np.ndarray) else emb.vectors.take(order)
    hashes = None if emb.known_hashes is None else emb.known_hashes[order]
    return EmbeddingSet(emb.encoder_id, emb.folder, ids, vectors, emb.meta, hashes)


@dataclass(frozen=True)
class Alignment:
    """Tiles kept (sorted by id), the file row of each in both encoders, the tiles left out."""

    tiles: pa.Table
    ids: list[str]
    clip_rows: np.ndarray
    dino_rows: np.ndarray
    left_out: dict[str, str]


def _positions(ids: pa.Array, among: list[str]) -> np.ndarray:
    """Index in ``among`` (unique ids) of each of ``ids``; -1 where absent."""
    pos = pc.index_in(ids, value_set=pa.array(among, type=pa.string()))
    return pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def align(tiles: pa.Table, clip: tuple[str, list[str]], dino: tuple[str, list[str]]) -> Alignment:
    """Keep tiles with a footprint and both embeddings (``(encoder id, tile ids in file
    order)`` each), sorted by tile id; report the rest (Arrow joins, no per-tile Python)."""
    tile_ids = pc.cast(tiles.column("tile_id").combine_chunks(), pa.string())
    rows = np.arange(len(tile_ids))
    first = np.asarray(
        pc.index_in(tile_ids, value_set=tile_ids).to_numpy(zero_copy_only=False), np.int64
    )
    c_pos, d_pos = _positions(tile_ids, clip[1]), _positions(tile_ids, dino[1])
    left_out: dict[str, str] = {}
    for row in np.flatnonzero((c_pos < 0) | (d_pos < 0)):
        missing = [name for name, pos in ((clip[0], c_pos), (dino[0], d_pos)) if pos[row] < 0]
        left_out[tile_ids[row].as_py()] = "no embedding from " + " and ".join(missing)
    for (name, emb_ids), pos in ((clip, c_pos), (dino, d_pos)):
        absent = np.ones(len(emb_ids), dtype=bool)  # ids are unique: no tile points at these
        absent[pos[pos >= 0]] = False
        for i in np.flatnonzero(absent):
            left_out.setdefault(emb_ids[i], f"embedded by {name} but not in tiles/")
    keep = rows[(first == rows) & (c_pos >= 0) & (d_pos >= 0)]
    kept = tile_ids.take(pa.array(keep))
    order = keep[pc.sort_indices(kept).to_numpy()]
    table = tiles.take(pa.array(order, type=pa.int64()))
    ids = tile_ids.take(pa.array(order)).to_pylist()
    return Alignment(table, ids, c_pos[order], d_pos[order], left_out)


def load_inputs(
    ws: Workspace, clip_id: str, dino_id: str, hold_max: int | None = None
) -> MineInputs:
    """Tiles and both embedding sets, checked and aligned.

    Up to ``hold_max`` tiles (default :data:`HOLD_FLOAT32_MAX`) both sets are float32
    arrays; above, CLIP is held as float16 and DINOv2 is not read now (both are read back
    exactly where needed; DINOv2's hashes on the first read).
    """
    hold_max = HOLD_FLOAT32_MAX if hold_max is None else hold_max
    tiles = load_tiles(ws)
    clip_parts, dino_parts = _open(ws, clip_id), _open(ws, dino_id)
    al = align(tiles, (clip_id, clip_parts.ids), (dino_id, dino_parts.ids))
    if len(al.ids) <= hold_max:
        clip = _held(clip_parts, al.clip_rows, al.ids, clip_id)
        dino = _held(dino_parts, al.dino_rows, al.ids, dino_id)
    else:
        clip = _streamed(clip_parts, al.clip_rows, al.ids, clip_id)
        dino = _unread(dino_parts, al.dino_rows, al.ids, dino_id)
    return MineInputs(al.tiles, clip, dino, al.left_out)
