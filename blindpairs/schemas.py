"""The data contracts between stages: column names, Arrow types and file metadata.

Every stage reads its parent's output through the names and helpers here and
nowhere else. Changing a name here is changing the contract (see DESIGN.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    import numpy as np

# Key under which each stage stores its JSON metadata in a Parquet file's
# key-value metadata.
META_KEY = b"blindpairs"
# GeoParquet metadata key.
GEO_KEY = b"geo"

# ---------------------------------------------------------------- tiles
TILES_SCHEMA = pa.schema(
    [
        pa.field("tile_id", pa.string(), nullable=False),
        pa.field("scene_id", pa.string(), nullable=False),
        pa.field("scene_uri", pa.string(), nullable=False),
        pa.field("row_off", pa.int64(), nullable=False),
        pa.field("col_off", pa.int64(), nullable=False),
        pa.field("width", pa.int64(), nullable=False),
        pa.field("height", pa.int64(), nullable=False),
        pa.field("proj:code", pa.string()),
        pa.field("proj:transform", pa.list_(pa.float64(), 6)),
        pa.field("bands", pa.list_(pa.int32())),
        pa.field("gsd_m", pa.float64()),
        pa.field("valid_fraction", pa.float32()),
        pa.field("image", pa.binary(), nullable=False),
        pa.field("tiling", pa.string(), nullable=False),
        pa.field("geometry", pa.binary(), nullable=False),
    ]
)
TILE_COLUMNS = tuple(TILES_SCHEMA.names)

# ---------------------------------------------------------------- encoders
# Named (CLIP, DINOv2) encoder pairs, shared by the embed and mine stages' --encoders.
ENCODER_SETS: dict[str, tuple[str, str]] = {
    "paper": ("clip:ViT-L-14/openai", "dinov2:vit_large_patch14_dinov2.lvd142m"),
    "small": ("clip:ViT-B-32/laion2b_s34b_b79k", "dinov2:vit_small_patch14_dinov2.lvd142m"),
    "tiny": ("clip-tiny-random", "dinov2-tiny-random"),
}

# ---------------------------------------------------------------- embeddings
EMBEDDING_ID = "tile_id"
EMBEDDING_VECTOR = "embedding"
# Keys every embeddings part carries in its metadata (JSON under META_KEY): the
# embedding's identity. The compute dtype belongs to it (bf16 and fp32 vectors
# differ), so one folder never mixes dtypes.
EMBEDDING_META_KEYS = (
    "encoder_id",
    "weights",
    "preprocessing",
    "dim",
    "random_weights",
    "compute_dtype",
)


# The embed stage's failure record (``Workspace.embed_failures``): one row per tile that
# failed, for the identity (``embedding_identity_key``) it failed for.
EMBED_FAILURES_SCHEMA = pa.schema(
    [
        pa.field("tile_id", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("identity", pa.string(), nullable=False),
        pa.field("recorded_at", pa.string(), nullable=False),
    ]
)


def embedding_identity(meta: Mapping[str, Any]) -> dict[str, Any]:
    """An embedding set's identity: the ``EMBEDDING_META_KEYS`` of ``meta`` (a part's
    metadata, a plan, a worker's result), normalised through JSON (tuples become lists)
    so that equal identities compare equal wherever they come from. The one definition:
    embed (its folders, failures and replacement) and mine (its candidate cache) use it."""
    ident = {k: meta.get(k) for k in EMBEDDING_META_KEYS}
    return json.loads(json.dumps(ident, sort_keys=True, default=str))


def check_same_identity(part: Path, first: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
    """Refuse a part (``meta``) whose embedding identity differs from the folder's first
    part (``first``): InputError names the part, both encoders and the keys that differ."""
    from blindpairs.errors import InputError

    key, ref = embedding_identity(meta), embedding_identity(first)
    if key == ref:
        return
    differ = ", ".join(
        f"{k} {json.dumps(key[k], sort_keys=True)} vs {json.dumps(ref[k], sort_keys=True)}"
        for k in EMBEDDING_META_KEYS
        if key[k] != ref[k]
    )
    raise InputError(
        str(part),
        f"embeddings of {key['encoder_id']!r} ({key['weights']}, dim {key['dim']}) "
        f"mixed with {ref['encoder_id']!r} ({ref['weights']}, dim {ref['dim']}) in one "
        f"folder ({differ}); remove one of them (or run embed --replace) and re-run embed",
    )


def embedding_identity_key(meta: Mapping[str, Any]) -> str:
    """:func:`embedding_identity` as one comparable string."""
    return json.dumps(embedding_identity(meta), sort_keys=True)


def vector_type(dim: int, dtype: pa.DataType | None = None) -> pa.DataType:
    """The ``embedding`` column's type: a fixed-size list of ``dim`` floats (float32 by
    default), its elements declared non-null.

    Vectors never hold nulls (the writer refuses non-finite rows); declaring it lets
    Parquet store no definition levels for the elements, and pyarrow decoded a part
    3-4x faster (768 floats a row: 95-103 ms against 317-374 ms for 32 768 rows).
    Parts written with nullable elements (before 3 Dec 2026) read the same.
    """
    return pa.list_(pa.field("element", dtype or pa.float32(), nullable=False), dim)


def embeddings_schema(dim: int, dtype: pa.DataType | None = None) -> pa.Schema:
    """Arrow schema of an embeddings part: ``tile_id`` and a fixed-size vector."""
    return pa.schema(
        [
            pa.field(EMBEDDING_ID, pa.string(), nullable=False),
            pa.field(EMBEDDING_VECTOR, vector_type(dim, dtype), nullable=False),
        ]
    )


def vector_array(vectors: np.ndarray, dtype: pa.DataType | None = None) -> pa.FixedSizeListArray:
    """The rows of the 2-d array ``vectors`` as an ``embedding`` column of :func:`vector_type`
    (stored as ``dtype``, default float32)."""
    import numpy as np

    dtype = dtype or pa.float32()
    flat = np.ascontiguousarray(vectors, dtype=dtype.to_pandas_dtype()).ravel()
    return pa.FixedSizeListArray.from_arrays(
        pa.array(flat, type=dtype), type=vector_type(vectors.shape[1], dtype)
    )


# ---------------------------------------------------------------- pairs
PAIRS_SCHEMA = pa.schema(
    [
        pa.field("pair_id", pa.string(), nullable=False),
        pa.field("tile_a", pa.string(), nullable=False),
        pa.field("tile_b", pa.string(), nullable=False),
        pa.field("clip_sim", pa.float32()),
        pa.field("dino_sim", pa.float32()),
        pa.field("gap", pa.float32()),
        pa.field("clip_encoder", pa.string()),
        pa.field("dino_encoder", pa.string()),
        pa.field("tau_clip", pa.float32()),
        pa.field("tau_dino", pa.float32()),
        pa.field("rank", pa.int64()),
    ]
)

# Every candidate pair of the mine stage's last search (pairs/candidates.parquet):
# CLIP similarity at least the search radius, DINOv2 similarity exact. The mine stage
# reuses it as its search cache (file metadata: the cache key); the report draws it.
CANDIDATES_SCHEMA = pa.schema(
    [
        pa.field("tile_a", pa.string(), nullable=False),
        pa.field("tile_b", pa.string(), nullable=False),
        pa.field("clip_sim", pa.float32()),
        pa.field("dino_sim", pa.float32()),
    ]
)

# ---------------------------------------------------------------- exported pairs
# annotation/label_studio/tasks.json, the Label Studio task list the export writes:
# a JSON list of tasks whose ``data`` holds at least these keys. The mine stage keeps
# (pins) every pair listed there.
EXPORTED_PAIR_KEYS = ("pair_id", "tile_a", "tile_b")


def read_exported_pairs(path: Path) -> dict[str, tuple[str, str]]:
    """Pair id -> ``(tile_a, tile_b)`` of every pair exported for annotation, in export
    order (``{}`` when nothing was exported; a tile id the task lacks is ``""``).

    Raises :class:`~blindpairs.errors.InputError` naming the file when it is not a JSON
    list of tasks.
    """
    from blindpairs.errors import InputError

    if not path.exists():
        return {}
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(str(path), f"not readable JSON ({exc})") from None
    if not isinstance(tasks, list):
        raise InputError(str(path), "expected a JSON list of Label Studio tasks")
    out: dict[str, tuple[str, str]] = {}
    for task in tasks:
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not data.get(EXPORTED_PAIR_KEYS[0]):
            continue
        pid, a, b = (data.get(k) for k in EXPORTED_PAIR_KEYS)
        out[str(pid)] = (str(a or ""), str(b or ""))
    return out


# ---------------------------------------------------------------- benchmark
BENCHMARK_COLUMNS = (
    "index",
    "pair_id",
    "image",
    "question",
    "option_a",
    "option_b",
    "answer",
    "category",
    "tile_id",
)
# MMVP's own column names, carried beside ours in benchmark.parquet so that tools
# written for MMVP (lmms-eval's mmvp task, HF's MMVP datasets) read it as it is:
# Index = index, Question = question, Options = "(a) ... (b) ...", Correct Answer = "(a)".
MMVP_COLUMNS = ("Index", "Question", "Options", "Correct Answer")
# The image column is the Hugging Face ``datasets`` Image feature's storage:
# a struct of the encoded bytes (PNG) and a path (null), declared as
# ``{"_type": "Image"}`` in the ``huggingface`` schema metadata.
BENCHMARK_IMAGE_TYPE = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])
BENCHMARK_SCHEMA = pa.schema(
    [
        pa.field("index", pa.int64(), nullable=False),
        pa.field("pair_id", pa.string(), nullable=False),
        pa.field("image", BENCHMARK_IMAGE_TYPE),  # nullable, as datasets declares it
        pa.field("question", pa.string(), nullable=False),
        pa.field("option_a", pa.string(), nullable=False),
        pa.field("option_b", pa.string(), nullable=False),
        pa.field("answer", pa.string(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        pa.field("tile_id", pa.string(), nullable=False),
        pa.field("Index", pa.int64(), nullable=False),
        pa.field("Question", pa.string(), nullable=False),
        pa.field("Options", pa.string(), nullable=False),
        pa.field("Correct Answer", pa.string(), nullable=False),
    ]
)
HF_KEY = b"huggingface"


def hf_features(schema: pa.Schema) -> dict[str, Any]:
    """The ``datasets`` features of ``schema``: ``image`` an Image, the rest plain values."""
    names = {pa.int64(): "int64", pa.string(): "string"}
    features: dict[str, Any] = {}
    for f in schema:
        if f.type == BENCHMARK_IMAGE_TYPE:
            features[f.name] = {"_type": "Image"}
        else:
            features[f.name] = {"dtype": names[f.type], "_type": "Value"}
    return {"info": {"features": features}}


def benchmark_image_bytes(value: Any) -> bytes:
    """The PNG bytes of a benchmark image cell: the Image struct, or raw bytes (older files)."""
    if isinstance(value, Mapping):
        return bytes(value.get("bytes") or b"")
    return bytes(value or b"")


# ---------------------------------------------------------------- leaderboard
# evaluation/leaderboard.csv: one row per evaluated run, best first within each
# (benchmark, limit) group. Column -> the type a cell is read back as; an empty cell
# is None. Written by the evaluate stage, read by the report.
LEADERBOARD_TYPES: dict[str, type] = {
    "rank": int,
    "run": str,
    "model": str,
    "pair_accuracy": float,
    "pair_ci95_low": float,
    "pair_ci95_high": float,
    "question_accuracy": float,
    "question_ci95_low": float,
    "question_ci95_high": float,
    "pair_accuracy_both_orders": float,
    "pairs": int,
    "questions": int,
    "unparsed_rate": float,
    "failed": int,
    "prompt_version": str,
    "scoring": str,
    "parser_version": str,
    "swap_options": bool,
    "judge": str,
    "judge_protocol": str,
    "benchmark": str,
    "limit": int,
    "complete": bool,
    "ranked": bool,
    "random_weights": bool,
    "benchmark_random_weights": bool,
}
LEADERBOARD_COLUMNS = tuple(LEADERBOARD_TYPES)
_BOOL_CELLS = {"True": True, "False": False, "true": True, "false": False}


def _leaderboard_cell(text: str, kind: type) -> Any:
    if text == "":
        return None
    if kind is bool:
        if text not in _BOOL_CELLS:
            raise ValueError(f"{text!r} is not True or False")
        return _BOOL_CELLS[text]
    return kind(text)


def read_leaderboard(path: Path) -> list[dict[str, Any]]:
    """The rows of a ``leaderboard.csv``, typed by :data:`LEADERBOARD_TYPES`, in file order.

    Raises :class:`~blindpairs.errors.InputError` naming the file for a missing column or
    a cell of the wrong type.
    """
    import csv

    from blindpairs.errors import InputError

    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("run", "model") if c not in (reader.fieldnames or ())]
        if missing:
            raise InputError(str(path), f"not a leaderboard: no column(s) {', '.join(missing)}")
        rows = []
        for line, raw in enumerate(reader, start=2):
            row: dict[str, Any] = {}
            for name, kind in LEADERBOARD_TYPES.items():
                try:
                    row[name] = _leaderboard_cell(raw.get(name) or "", kind)
                except ValueError as exc:
                    raise InputError(str(path), f"line {line}, column {name}: {exc}") from None
            rows.append(row)
    return rows


# ---------------------------------------------------------------- metadata helpers
def with_metadata(
    schema: pa.Schema, meta: Mapping[str, Any], geo: Mapping | None = None
) -> pa.Schema:
    """Return ``schema`` carrying ``meta`` (and optional GeoParquet ``geo``) as JSON."""
    kv = dict(schema.metadata or {})
    kv[META_KEY] = json.dumps(meta, sort_keys=True, default=str).encode()
    if geo is not None:
        kv[GEO_KEY] = json.dumps(geo, sort_keys=True).encode()
    return schema.with_metadata(kv)


def _footer_kv(path: str | Path) -> dict[bytes, bytes]:
    # The footer's key-value metadata: it also holds entries a streaming writer adds on
    # close (``ParquetWriter.add_key_value_metadata``), which ``read_schema`` does not show.
    return dict(pq.read_metadata(path).metadata or {})


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read the blindpairs JSON metadata of a Parquet file without reading its data."""
    return metadata_of(_footer_kv(path))


def metadata_of(kv: dict[bytes, bytes] | None) -> dict[str, Any]:
    """The blindpairs JSON metadata in a footer's key-value metadata (``{}`` if none)."""
    raw = (kv or {}).get(META_KEY)
    return json.loads(raw) if raw else {}


def read_geo_metadata(path: str | Path) -> dict[str, Any]:
    """Read the GeoParquet ``geo`` metadata of a Parquet file."""
    kv = _footer_kv(path)
    raw = kv.get(GEO_KEY)
    return json.loads(raw) if raw else {}


# ---------------------------------------------------------------- readers
def read_table(path: str | Path, columns: list[str] | None = None) -> pa.Table:
    """One Parquet file as a table (with its metadata).

    ``pq.read_table`` goes through ``pyarrow.dataset``, whose import pulls in
    pandas (about half a second); a single file needs neither.
    """
    with pq.ParquetFile(path) as fh:
        return fh.read(columns=columns)


def read_tiles(parts: list[Path], columns: list[str] | None = None) -> pa.Table:
    """Read tile parts (all columns, or ``columns``) into one table."""
    if not parts:
        return (
            TILES_SCHEMA.empty_table()
            if columns is None
            else TILES_SCHEMA.empty_table().select(columns)
        )
    tables = [read_table(p, columns=columns) for p in parts]
    return pa.concat_tables(tables, promote_options="default")


def read_embeddings(encoder_dir: Path) -> tuple[list[str], Any, dict[str, Any]]:
    """Read every ``part-*.parquet`` of one encoder folder.

    Returns ``(tile_ids, vectors, meta)`` where ``vectors`` is a float32 NumPy
    array of shape (n, dim) in the order of ``tile_ids`` and ``meta`` the
    shared metadata. Raises :class:`~blindpairs.errors.InputError` when parts
    disagree on encoder id, weights, preprocessing, dimension or compute dtype.
    """
    import numpy as np

    from blindpairs.errors import InputError

    parts = sorted(Path(encoder_dir).glob("part-*.parquet"))
    ids: list[str] = []
    chunks = []
    meta: dict[str, Any] = {}
    for part in parts:
        m = read_metadata(part)
        if not meta:
            meta = m
        else:
            check_same_identity(part, meta, m)
        table = read_table(part, columns=[EMBEDDING_ID, EMBEDDING_VECTOR])
        if table.num_rows == 0:
            continue
        vec_type = table.schema.field(EMBEDDING_VECTOR).type
        dim = getattr(vec_type, "list_size", None)
        if dim is None or (meta.get("dim") is not None and dim != meta["dim"]):
            raise InputError(
                str(part), f"vector type {vec_type} does not match dim {meta.get('dim')}"
            )
        flat = (
            table.column(EMBEDDING_VECTOR).combine_chunks().flatten().to_numpy(zero_copy_only=False)
        )
        chunks.append(np.asarray(flat, dtype=np.float32).reshape(table.num_rows, dim))
        ids.extend(table.column(EMBEDDING_ID).to_pylist())
    dim = int(meta.get("dim") or 0)
    vectors = np.concatenate(chunks) if chunks else np.zeros((0, dim), dtype=np.float32)
    return ids, vectors, meta
