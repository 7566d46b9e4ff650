"""The per-row vector fingerprint: fixed values (caches depend on them), any chunking."""

from __future__ import annotations

import numpy as np

from pairs import vector_hash
from pairs.vector_hash import row_hashes


def test_row_hashes_keep_their_values() -> None:
    x = (np.arange(12, dtype=np.float32).reshape(3, 4) - 5) / 7
    assert [int(v) for v in row_hashes(x)] == [
        5094673822175935545,
        17613434549024651143,
        17733790600600978421,
    ]


def test_row_hashes_do_not_depend_on_the_chunk(monkeypatch) -> None:
    x = np.random.default_rng(0).standard_normal((50, 16)).astype(np.float32)
    want = row_hashes(x)
    monkeypatch.setattr(vector_hash, "_CHUNK_ELEMS", 16 * 7)  # 7 rows a step, a short last one
    assert np.array_equal(row_hashes(x), want)
    assert np.array_equal(row_hashes(x[:0]), np.zeros(0, np.uint64))
