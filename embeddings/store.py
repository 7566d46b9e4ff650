"""The embed stage's folder: embeddings parts, their identity, and recorded failures.

An embedding's identity is its encoder id, weights tag, preprocessing,
dimension, random-weights flag and compute dtype (``EMBEDDING_META_KEYS``); a
folder holds parts of one identity only, which is what
``schemas.read_embeddings`` needs.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from blindpairs import atomic
from blindpairs.schemas import (
    EMBED_FAILURES_SCHEMA,
    EMBEDDING_ID,
    EMBEDDING_META_KEYS,
    EMBEDDING_VECTOR,
    embedding_identity,
    embedding_identity_key,
    embeddings_schema,
    read_metadata,
    read_table,
    vector_array,
    vector_type,
    with_metadata,
)
from blindpairs.workspace import EMBED_FAILURES_FILE

FAILURES = EMBED_FAILURES_FILE  # the contract's names (Workspace.embed_failures)
FAILURES_SCHEMA = EMBED_FAILURES_SCHEMA
STORAGE_TYPES = {"float32": pa.float32(), "float16": pa.float16()}
# Parts keep dictionary encoding for the tile ids only: tried on the vectors it falls
# back to plain after a dictionary page that left 512 x 768 float32 parts 40% larger
# and ~25% slower to decode (docs/performance.md, "Mine stage at 1M tiles").
PART_WRITE_OPTIONS: dict[str, Any] = {"use_dictionary": [EMBEDDING_ID]}


# The embedding identity is defined once, in the contract (``schemas.embedding_identity``).
identity = embedding_identity
identity_key = embedding_identity_key


def parts(encoder_dir: Path) -> list[Path]:
    return sorted(Path(encoder_dir).glob("part-*.parquet"))


def recorded_compute_dtypes(encoder_dir: Path, model: Mapping[str, Any]) -> set[str]:
    """Compute dtypes of the parts that match ``model`` in every identity key but the dtype."""
    keys = [k for k in EMBEDDING_META_KEYS if k != "compute_dtype"]
    want = json.dumps({k: identity(model)[k] for k in keys}, sort_keys=True)
    found = set()
    for part in parts(encoder_dir):
        meta = identity(read_metadata(part))
        if json.dumps({k: meta[k] for k in keys}, sort_keys=True) == want:
            found.add(str(meta["compute_dtype"]))
    return found


@dataclass
class FolderState:
    """What an encoder folder already holds for one identity."""

    done: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    other_parts: list[Path] = field(default_factory=list)
    other_identity: dict[str, Any] | None = None


def scan(encoder_dir: Path, wanted: Mapping[str, Any]) -> FolderState:
    """Tile ids already embedded with identity ``wanted``, earlier failures, and foreign parts."""
    state = FolderState()
    key = identity_key(wanted)
    for part in parts(encoder_dir):
        meta = read_metadata(part)
        if identity_key(meta) != key:
            state.other_parts.append(part)
            state.other_identity = state.other_identity or identity(meta)
            continue
        state.done.update(read_table(part, columns=[EMBEDDING_ID]).column(0).to_pylist())
    failed = scan_failures(encoder_dir, key)
    state.failed = {t: r for t, r in failed.items() if t not in state.done}
    return state


def scan_failures(encoder_dir: Path, key: str) -> dict[str, str]:
    """Recorded failures (tile id -> reason) of the identity with key ``key``."""
    path = Path(encoder_dir) / FAILURES
    if not path.exists():
        return {}
    table = read_table(path)
    return {
        tid: reason
        for tid, reason, ident in zip(
            table.column("tile_id").to_pylist(),
            table.column("reason").to_pylist(),
            table.column("identity").to_pylist(),
            strict=True,
        )
        if ident == key
    }


def differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """``key: a -> b`` for each identity key where ``a`` and ``b`` differ."""
    diffs = [
        f"{k}: {json.dumps(a.get(k))} -> {json.dumps(b.get(k))}"
        for k in EMBEDDING_META_KEYS
        if json.dumps(a.get(k), sort_keys=True) != json.dumps(b.get(k), sort_keys=True)
    ]
    return "; ".join(diffs)


def part_name(source: str, tile_ids: Sequence[str]) -> str:
    """``part-<tiles part stem>-<hash of its tile ids>.parquet`` (stable across re-runs)."""
    digest = hashlib.sha1("\n".join(tile_ids).encode()).hexdigest()[:12]
    return f"part-{source.removeprefix('part-')}-{digest}.parquet"


def write_part(
    encoder_dir: Path,
    name: str,
    tile_ids: Sequence[str],
    vectors: np.ndarray,
    meta: Mapping[str, Any],
    storage: str,
) -> Path:
    """Atomically write one embeddings part (``vectors`` must be finite, unit-norm rows)."""
    dim = int(meta["dim"])
    if vectors.shape != (len(tile_ids), dim) or not np.isfinite(vectors).all():
        raise ValueError(
            f"{name}: refusing to write vectors of shape {vectors.shape} or non-finite"
        )
    stored = STORAGE_TYPES[storage]
    table = pa.Table.from_arrays(
        [pa.array(list(tile_ids), pa.string()), vector_array(vectors, stored)],
        schema=with_metadata(embeddings_schema(dim, stored), meta),
    )
    target = Path(encoder_dir) / name
    with atomic.atomic_path(target) as tmp:
        pq.write_table(table, tmp, **PART_WRITE_OPTIONS)
    return target


def record_failures(
    encoder_dir: Path,
    wanted: Mapping[str, Any],
    failures: Iterable[tuple[str, str]],
    resolved: Iterable[str] = (),
) -> None:
    """Add ``failures`` (tile id, reason) and drop ``resolved`` ids, for identity ``wanted``."""
    failures = list(failures)
    resolved = set(resolved)
    path = Path(encoder_dir) / FAILURES
    key = identity_key(wanted)
    rows: dict[tuple[str, str], dict[str, str]] = {}
    if path.exists():
        for row in read_table(path).to_pylist():
            rows[(row["identity"], row["tile_id"])] = row
    if not failures and not any((key, t) in rows for t in resolved):
        return
    for tid in resolved:
        rows.pop((key, tid), None)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for tid, reason in failures:
        rows[(key, tid)] = {"tile_id": tid, "reason": reason, "identity": key, "recorded_at": now}
    table = pa.Table.from_pylist(list(rows.values()), schema=FAILURES_SCHEMA)
    with atomic.atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def prune(encoder_dir: Path, wanted: Mapping[str, Any], keep: set[str]) -> int:
    """Drop rows of identity ``wanted`` whose tile id is not in ``keep``; return how many.

    A part that loses every row is deleted; one that loses some is rewritten
    atomically (same name, same metadata). Failures of dropped tiles go too.
    """
    key = identity_key(wanted)
    removed: set[str] = set()
    for part in parts(encoder_dir):
        if identity_key(read_metadata(part)) != key:
            continue
        table = read_table(part)
        ids = table.column(EMBEDDING_ID).to_pylist()
        mask = [t in keep for t in ids]
        if all(mask):
            continue
        removed.update(t for t, ok in zip(ids, mask, strict=True) if not ok)
        if not any(mask):
            part.unlink()
            continue
        kept = _current_types(table.filter(pa.array(mask)))
        with atomic.atomic_path(part) as tmp:
            pq.write_table(kept, tmp, **PART_WRITE_OPTIONS)
    failed = scan_failures(encoder_dir, key)
    record_failures(encoder_dir, wanted, [], resolved=[t for t in failed if t not in keep])
    return len(removed)


def _current_types(table: pa.Table) -> pa.Table:
    """``table`` with its vector column of :func:`~blindpairs.schemas.vector_type` (a part
    written before the elements were declared non-null is upgraded when rewritten)."""
    field = table.schema.field(EMBEDDING_VECTOR)
    want = vector_type(field.type.list_size, field.type.value_type)
    if field.type == want:
        return table
    i = table.schema.get_field_index(EMBEDDING_VECTOR)
    schema = table.schema.set(i, field.with_type(want))
    return table.cast(schema)
