"""Embedding parts as written: exact values, dictionary encoding for the tile ids only,
non-null vector elements (and parts written before that read the same)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blindpairs.schemas import (
    EMBEDDING_ID,
    EMBEDDING_VECTOR,
    read_metadata,
    vector_type,
    with_metadata,
)
from embeddings import store

META = {"encoder_id": "clip:test", "weights": "test", "preprocessing": "none", "dim": 64}


def _encodings(path: Path) -> dict[str, set[str]]:
    group = pq.ParquetFile(path).metadata.row_group(0)
    columns = (group.column(i) for i in range(group.num_columns))
    return {c.path_in_schema.split(".")[0]: set(c.encodings) for c in columns}


def test_vectors_are_written_exactly_without_a_dictionary(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 64)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = [f"t{i:04d}" for i in range(300)]
    path = store.write_part(tmp_path, "part-a.parquet", ids, x, META, "float32")
    table = pq.read_table(path)
    got = np.asarray(table.column(EMBEDDING_VECTOR).combine_chunks().flatten()).reshape(300, 64)
    assert np.array_equal(got.view(np.uint32), x.view(np.uint32))
    assert table.column(EMBEDDING_ID).to_pylist() == ids
    enc = _encodings(path)
    assert not any("DICTIONARY" in e for e in enc[EMBEDDING_VECTOR])
    assert any("DICTIONARY" in e for e in enc[EMBEDDING_ID])

    assert store.prune(tmp_path, META, set(ids[:100])) == 200  # rewritten, same options
    assert pq.read_table(path).num_rows == 100
    assert not any("DICTIONARY" in e for e in _encodings(path)[EMBEDDING_VECTOR])


def _max_definition_level(path: Path) -> int:
    schema = pq.ParquetFile(path).schema
    return next(
        schema.column(i).max_definition_level
        for i in range(len(schema))
        if schema.column(i).path.startswith(EMBEDDING_VECTOR)
    )


def _old_part(path: Path, ids: list[str], x: np.ndarray) -> None:
    """A part as written before 3 Dec 2026: the vector elements nullable."""
    flat = pa.array(x.ravel())
    fields = [
        pa.field(EMBEDDING_ID, pa.string(), nullable=False),
        pa.field(EMBEDDING_VECTOR, pa.list_(pa.float32(), x.shape[1]), nullable=False),
    ]
    schema = with_metadata(pa.schema(fields), {**META, "dim": x.shape[1]})
    vectors = pa.FixedSizeListArray.from_arrays(flat, x.shape[1])
    pq.write_table(pa.Table.from_arrays([pa.array(ids), vectors], schema=schema), path)


@pytest.mark.parametrize("storage", ["float32", "float16"])
def test_vector_elements_are_declared_non_null(tmp_path: Path, storage: str) -> None:
    x = np.eye(4, 64, dtype=np.float32)
    path = store.write_part(tmp_path, "part-a.parquet", list("abcd"), x, META, storage)
    vec = pq.read_schema(path).field(EMBEDDING_VECTOR).type
    assert vec == vector_type(64, store.STORAGE_TYPES[storage])
    assert not vec.value_field.nullable
    # no definition levels for the elements: only the (required) list's repetition
    assert _max_definition_level(path) == 1


def test_parts_with_nullable_elements_read_the_same_and_prune_upgrades_them(
    tmp_path: Path,
) -> None:
    from pairs.vector_parts import VectorParts

    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 64)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = [f"t{i:03d}" for i in range(50)]
    _old_part(tmp_path / "part-a-old.parquet", ids[:25], x[:25])
    store.write_part(tmp_path, "part-b-new.parquet", ids[25:], x[25:], META, "float32")
    assert _max_definition_level(tmp_path / "part-a-old.parquet") == 2

    parts = VectorParts.open(tmp_path)
    assert parts.ids == ids
    got = parts.gather(np.arange(50))
    assert np.array_equal(got.view(np.uint32), x.view(np.uint32))

    assert store.prune(tmp_path, META, set(ids[5:])) == 5
    assert _max_definition_level(tmp_path / "part-a-old.parquet") == 1  # rewritten: upgraded
    assert read_metadata(tmp_path / "part-a-old.parquet") == read_metadata(
        tmp_path / "part-b-new.parquet"
    )
    again = VectorParts.open(tmp_path)
    assert again.ids == ids[5:]
    assert np.array_equal(again.gather(np.arange(45)).view(np.uint32), x[5:].view(np.uint32))
