"""Vectors not held in memory as float32: read back exactly from the parts where needed.

Above :data:`pairs.inputs.HOLD_FLOAT32_MAX` tiles the mine stage holds the CLIP
vectors as float16 (for the search only) and no DINOv2 vectors at all
(1M x 1024 float32 would be 4 GB). The similarities of candidate pairs are then
computed from the float32 rows re-read from the parts (:func:`pair_dots`), so
they are bit-identical to those of the held float32 arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from pairs.pairset import rowwise_dot
from pairs.vector_parts import VectorParts

# Rows gathered at once by pair_dots (bounds its memory: 512 MiB of float32 rows, one
# copy: they are gathered in file order, with no reordering copy; 131 072 1024-d rows).
GATHER_BYTES = 512 << 20


@dataclass
class FileHashes:
    """The :func:`~pairs.vector_hash.row_hashes` of every file row of some parts, once a
    pass has read them all (shared by the :class:`PartRows` taken from one another)."""

    values: np.ndarray | None = None


@dataclass(frozen=True)
class PartRows:
    """Row ``i`` is file row ``source[i]`` of ``parts``; ``held`` (or None) a float16 copy
    of all rows, row-aligned, for the search. With ``file_hashes`` the rows' hashes are
    not known yet: the first :func:`pair_dots` (which reads the parts anyway) or
    :meth:`hashes` computes them."""

    parts: VectorParts
    source: np.ndarray
    held: np.ndarray | None = None
    file_hashes: FileHashes | None = field(default=None, compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.source), self.parts.dim

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        """The exact float32 unit rows ``rows`` (reads only the parts holding them)."""
        return self.parts.gather(self.source[np.asarray(rows)])

    def take(self, keep: np.ndarray) -> PartRows:
        held = None if self.held is None else self.held[keep]
        return PartRows(self.parts, self.source[keep], held, self.file_hashes)

    def hashes(self) -> np.ndarray:
        """The rows' hashes (a pass over every part, unless one was made already)."""
        if self.file_hashes is None:
            raise ValueError("these rows were hashed when read; use those hashes")
        if self.file_hashes.values is None:
            self.file_hashes.values = self.parts.hashes()
        return self.file_hashes.values[self.source]


def _chunks(a: np.ndarray, b: np.ndarray, cap: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(start, stop, rows)``: runs of pairs whose distinct rows number at most ``cap``."""
    start = 0
    while start < len(a):
        k = len(a) - start
        while True:
            rows = np.unique(np.concatenate([a[start : start + k], b[start : start + k]]))
            if len(rows) <= cap or k == 1:
                break
            k = max(1, int(k * cap / len(rows) * 0.9))
        yield start, start + k, rows
        start += k


def grouped_order(a: np.ndarray, b: np.ndarray, rounds: int = 8) -> np.ndarray:
    """An order of the pairs ``(a[i], b[i])`` that keeps pairs sharing tiles together
    (near-duplicate families: fewer distinct rows a run), then by ``a``.

    Groups are labelled by a few rounds of min-label propagation along the pairs
    (connected components when they converge; any grouping keeps the results exact).
    """
    if not len(a):
        return np.zeros(0, dtype=np.int64)
    label = np.arange(int(max(a.max(), b.max())) + 1)
    for _ in range(rounds):
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, label):
            break
        label = new
    return np.lexsort((b, a, label[a]))


def pair_dots(x: np.ndarray | PartRows, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x[a[i]] . x[b[i]]`` in float32, exactly as :func:`rowwise_dot` on the float32 rows.

    For :class:`PartRows` the pairs are taken as file rows: the distinct rows of a run
    of pairs are read in one pass over the parts, sorted (so no second, reordered copy;
    at most :data:`GATHER_BYTES` of them at a time; pairs sharing tiles in the same run,
    :func:`grouped_order`). When the rows' hashes are still to be computed, the first
    pass reads every part and computes them on the way (no pass of their own).
    """
    if isinstance(x, np.ndarray):
        return rowwise_dot(x, a, b)
    fa, fb = x.source[a], x.source[b]
    out = np.empty(len(a), dtype=np.float32)
    order = grouped_order(fa, fb)
    sa, sb = fa[order], fb[order]
    cap = max(2, GATHER_BYTES // (4 * max(1, x.parts.dim)))
    for start, stop, rows in _chunks(sa, sb, cap):
        fh = x.file_hashes
        todo = fh if fh is not None and fh.values is None else None
        hashes = None if todo is None else np.empty(x.parts.rows, dtype=np.uint64)
        got = x.parts.gather(rows, hashes)  # sorted unique file rows: returned as read
        if todo is not None:
            todo.values = hashes
        ia = np.searchsorted(rows, sa[start:stop])
        ib = np.searchsorted(rows, sb[start:stop])
        out[order[start:stop]] = rowwise_dot(got, ia, ib)
    return out


def search_matrix(x: np.ndarray | PartRows) -> np.ndarray:
    """The array the CLIP search reads: the float32 array, or the held float16 copy."""
    if isinstance(x, np.ndarray):
        return x
    if x.held is None:
        raise ValueError("the CLIP rows must be held (float16) to be searched")
    return x.held
