"""The mine stage's files: pairs.parquet, the candidate cache, and what it reads back."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from blindpairs import atomic, freshness, schemas
from blindpairs.errors import InputError
from blindpairs.workspace import Workspace

log = logging.getLogger(__name__)

# The candidate cache is the public candidates file (ws.candidates, schemas.CANDIDATES_SCHEMA),
# named this way before it was public.
LEGACY_CANDIDATES = "_candidates.parquet"
# each searched tile with fingerprints of the two vectors it was searched with
SEARCHED_SCHEMA = pa.schema(
    [
        pa.field("tile_id", pa.string(), nullable=False),
        pa.field("clip_hash", pa.uint64(), nullable=False),
        pa.field("dino_hash", pa.uint64(), nullable=False),
    ]
)


def searched_path(ws: Workspace) -> Path:
    return ws.pairs_dir / "_searched.parquet"


def state_path(ws: Workspace) -> Path:
    return ws.mine_state


def left_out_path(ws: Workspace) -> Path:
    return ws.pairs_dir / "left_out.json"


def write_parquet(path: Path, table: pa.Table) -> None:
    """Write ``table`` atomically (one row group, no statistics drift between runs)."""
    with atomic.atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def fingerprint(ws: Workspace, params: dict[str, Any], encoder_dirs: list[Path]) -> str:
    """A hash of the params and of the names, sizes and mtimes of the tile and embedding parts.

    tasks.json is not in it: an export that pins pairs already in pairs.parquet
    changes nothing (see :func:`pins_satisfied`).
    """
    files: list[Any] = freshness.file_stats(ws.tile_parts())
    for folder in encoder_dirs:
        files.append(str(folder.name))
        files.extend(freshness.file_stats(sorted(folder.glob("part-*.parquet"))))
    return freshness.fingerprint({"params": params, "files": files}, length=40)


def _stamp(ws: Workspace) -> freshness.Stamp:
    return freshness.Stamp(state_path(ws), (ws.pairs, ws.pair_yield, left_out_path(ws)))


def is_up_to_date(ws: Workspace, fingerprint: str) -> bool:
    """True when the last complete run had ``fingerprint`` and its outputs are as it left them."""
    return _stamp(ws).is_fresh(fingerprint, {"pairs_sha1": freshness.file_digest(ws.pairs)})


def write_state(ws: Workspace, fingerprint: str) -> None:
    """Mark the run complete: its input fingerprint and the pairs.parquet it wrote.

    Kept apart from the outputs so that they hold only what the run found: a
    re-run on inputs that changed in no substance leaves them byte-identical.
    """
    state = {freshness.FINGERPRINT: fingerprint, "pairs_sha1": freshness.file_digest(ws.pairs)}
    atomic.write_json(state_path(ws), state)


def pins_satisfied(ws: Workspace, prev: pa.Table | None) -> bool:
    """True when every pair exported for annotation is in the last pairs.parquet."""
    pinned = read_pinned(ws)
    if not pinned:
        return True
    have = set(prev.column("pair_id").to_pylist()) if prev is not None else set()
    return set(pinned) <= have


def read_previous(ws: Workspace) -> tuple[pa.Table | None, dict[str, Any]]:
    """The last pairs.parquet and its metadata, or ``(None, {})``."""
    path = ws.pairs
    if not path.exists():
        return None, {}
    try:
        return schemas.read_table(path), schemas.read_metadata(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(str(path), f"unreadable ({exc}); delete it to mine from scratch") from None


def read_pinned(ws: Workspace) -> dict[str, tuple[str, str]]:
    """Pair ids exported for annotation (Label Studio tasks.json) -> their two tile ids."""
    return schemas.read_exported_pairs(ws.tasks)


def read_cache(ws: Workspace, key: dict[str, Any]) -> tuple[pa.Table, pa.Table] | None:
    """Cached candidates and the searched tiles (with vector hashes), if made with ``key``."""
    cpath, spath = ws.candidates, searched_path(ws)
    legacy = ws.pairs_dir / LEGACY_CANDIDATES
    if legacy.is_file() and not cpath.exists():  # the name before the file became public
        legacy.replace(cpath)
    if not (cpath.exists() and spath.exists()):
        return None
    try:
        cmeta, smeta = schemas.read_metadata(cpath), schemas.read_metadata(spath)
        if cmeta.get("key") != key or cmeta.get("token") != smeta.get("token"):
            return None
        searched = schemas.read_table(spath)
        if searched.schema.names != SEARCHED_SCHEMA.names:
            return None
        return schemas.read_table(cpath), searched
    except (OSError, pa.ArrowInvalid):
        log.warning("%s: unreadable candidate cache; searching all tiles again", cpath)
        return None


def write_cache(ws: Workspace, key: dict[str, Any], cands: pa.Table, searched: pa.Table) -> None:
    """Write the candidate cache; the token ties the two files together.

    ``searched`` has the columns of :data:`SEARCHED_SCHEMA`.
    """
    token = uuid.uuid4().hex
    meta = {"key": key, "token": token}
    write_parquet(ws.candidates, cands.cast(schemas.with_metadata(schemas.CANDIDATES_SCHEMA, meta)))
    searched = searched.sort_by("tile_id").select(SEARCHED_SCHEMA.names)
    write_parquet(searched_path(ws), searched.cast(schemas.with_metadata(SEARCHED_SCHEMA, meta)))
