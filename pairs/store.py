"""The mine stage's files: pairs.parquet, the candidate cache, and what it reads back."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from blindpairs import atomic, schemas
from blindpairs.errors import InputError
from blindpairs.workspace import Workspace

log = logging.getLogger(__name__)

CACHE_SCHEMA = pa.schema(
    [
        pa.field("tile_a", pa.string(), nullable=False),
        pa.field("tile_b", pa.string(), nullable=False),
        pa.field("clip_sim", pa.float32()),
        pa.field("dino_sim", pa.float32()),
    ]
)
# each searched tile with fingerprints of the two vectors it was searched with
SEARCHED_SCHEMA = pa.schema(
    [
        pa.field("tile_id", pa.string(), nullable=False),
        pa.field("clip_hash", pa.uint64(), nullable=False),
        pa.field("dino_hash", pa.uint64(), nullable=False),
    ]
)


def candidates_path(ws: Workspace) -> Path:
    return ws.pairs_dir / "_candidates.parquet"


def searched_path(ws: Workspace) -> Path:
    return ws.pairs_dir / "_searched.parquet"


def state_path(ws: Workspace) -> Path:
    return ws.pairs_dir / "_state.json"


def left_out_path(ws: Workspace) -> Path:
    return ws.pairs_dir / "left_out.json"


def tasks_path(ws: Workspace) -> Path:
    return ws.label_studio / "tasks.json"


def write_parquet(path: Path, table: pa.Table) -> None:
    """Write ``table`` atomically (one row group, no statistics drift between runs)."""
    with atomic.atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def _stat(path: Path) -> list[Any]:
    st = path.stat()
    return [path.name, st.st_size, st.st_mtime_ns]


def fingerprint(ws: Workspace, params: dict[str, Any], encoder_dirs: list[Path]) -> str:
    """A hash of the params and of the names, sizes and mtimes of the tile and embedding parts.

    tasks.json is not in it: an export that pins pairs already in pairs.parquet
    changes nothing (see :func:`pins_satisfied`).
    """
    files: list[Any] = [_stat(p) for p in ws.tile_parts()]
    for folder in encoder_dirs:
        files.append(str(folder.name))
        files.extend(_stat(p) for p in sorted(folder.glob("part-*.parquet")))
    blob = json.dumps({"params": params, "files": files}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()


def _sha1(path: Path) -> str | None:
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError:
        return None


def is_up_to_date(ws: Workspace, fingerprint: str) -> bool:
    """True when the last complete run had ``fingerprint`` and its outputs are as it left them."""
    try:
        state = json.loads(state_path(ws).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    outputs = (ws.pairs, ws.pair_yield, left_out_path(ws))
    return (
        isinstance(state, dict)
        and state.get("fingerprint") == fingerprint
        and all(p.is_file() for p in outputs)
        and state.get("pairs_sha1") == _sha1(ws.pairs)
    )


def write_state(ws: Workspace, fingerprint: str) -> None:
    """Mark the run complete: its input fingerprint and the pairs.parquet it wrote.

    Kept apart from the outputs so that they hold only what the run found: a
    re-run on inputs that changed in no substance leaves them byte-identical.
    """
    atomic.write_json(state_path(ws), {"fingerprint": fingerprint, "pairs_sha1": _sha1(ws.pairs)})


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
    path = tasks_path(ws)
    if not path.exists():
        return {}
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(str(path), f"not readable JSON ({exc})") from None
    if not isinstance(tasks, list):
        raise InputError(str(path), "expected a JSON list of Label Studio tasks")
    out: dict[str, tuple[str, str]] = {}
    for task in tasks:
        data = task.get("data", {}) if isinstance(task, dict) else {}
        pid = data.get("pair_id")
        if pid:
            out[str(pid)] = (str(data.get("tile_a", "")), str(data.get("tile_b", "")))
    return out


def read_cache(ws: Workspace, key: dict[str, Any]) -> tuple[pa.Table, pa.Table] | None:
    """Cached candidates and the searched tiles (with vector hashes), if made with ``key``."""
    cpath, spath = candidates_path(ws), searched_path(ws)
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
    write_parquet(candidates_path(ws), cands.cast(schemas.with_metadata(CACHE_SCHEMA, meta)))
    searched = searched.sort_by("tile_id").select(SEARCHED_SCHEMA.names)
    write_parquet(searched_path(ws), searched.cast(schemas.with_metadata(SEARCHED_SCHEMA, meta)))
