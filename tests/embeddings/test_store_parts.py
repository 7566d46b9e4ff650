"""Embedding parts as written: exact values, dictionary encoding for the tile ids only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from blindpairs.schemas import EMBEDDING_ID, EMBEDDING_VECTOR
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
