"""One encoder's embedding parts, read batch by batch (never a whole folder in one table).

:class:`VectorParts` knows the parts, their tile ids and row counts (read from
the id column and the metadata only). Its vectors are read a batch at a time,
checked (finite, non-zero) and rescaled to unit norm, the same way on every
read, so the first read (into one preallocated array) and any later gather of
a few rows give bit-identical float32 rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from blindpairs import schemas
from blindpairs.errors import InputError
from pairs.parallel import cpu_threads
from pairs.vector_hash import row_hashes

log = logging.getLogger(__name__)

BATCH_ROWS = 8192
# Parts read at once, per core this process may run on: decoding, checks and hashes release
# the GIL, and a reader waiting on the GIL or on page faults leaves its core idle (reading
# 1M CLIP + 1M DINOv2 vectors on 2 cores: 19.0-19.5 s with 2 readers, 14.8-15.8 s with 4).
READERS_PER_CORE = 2
READERS_MAX = 16


def read_threads() -> int:
    """Parts read at once: :data:`READERS_PER_CORE` per core, at most :data:`READERS_MAX`."""
    return min(READERS_MAX, READERS_PER_CORE * cpu_threads())


# How far a stored unit vector's norm may drift from 1 by rounding alone, per stored type
# (float16 keeps 11 significant bits: a relative error up to ~5e-4 per component).
NORM_TOLERANCE: dict[str, float] = {"halffloat": 2e-3, "float": 1e-4, "double": 1e-4}
# Norms off by more than float32 rounding are rescaled (silently within the tolerance).
RESCALE_ABOVE = 1e-6


def _scan(part: Path) -> tuple[dict[str, Any], Any, list[str] | None]:
    """A part's blindpairs metadata, vector type and tile ids (None: no rows), in one open."""
    with pq.ParquetFile(part) as fh:
        meta = schemas.metadata_of(fh.metadata.metadata)
        if fh.metadata.num_rows == 0:
            return meta, None, None
        vec_type = fh.schema_arrow.field(schemas.EMBEDDING_VECTOR).type
        ids = fh.read(columns=[schemas.EMBEDDING_ID]).column(0).to_pylist()
    return meta, vec_type, ids


@dataclass(frozen=True)
class VectorParts:
    """The parts of one encoder folder: ids in file order, rows per part, dim, metadata."""

    folder: Path
    parts: tuple[Path, ...]
    counts: tuple[int, ...]
    ids: list[str]
    dim: int
    meta: dict[str, Any]
    tolerance: float  # norm drift explained by the coarsest stored type

    @classmethod
    def open(cls, folder: Path) -> VectorParts:
        """Read ids, metadata and vector types of every ``part-*.parquet`` (no vectors);
        each part is opened once, :func:`read_threads` at a time."""
        parts, counts, ids = [], [], []
        meta: dict[str, Any] = {}
        dim: int | None = None
        tolerance = min(NORM_TOLERANCE.values())
        files = sorted(folder.glob("part-*.parquet"))
        with ThreadPoolExecutor(read_threads(), thread_name_prefix="parts") as pool:
            scans = list(pool.map(_scan, files))
        for part, (m, vec_type, part_ids) in zip(files, scans, strict=True):
            if meta:
                schemas.check_same_identity(part, meta, m)
            meta = meta or m
            if part_ids is None:
                continue
            size = getattr(vec_type, "list_size", None)
            if size is None or (meta.get("dim") is not None and size != meta["dim"]):
                raise InputError(
                    str(part), f"vector type {vec_type} does not match dim {meta.get('dim')}"
                )
            dim = size if dim is None else dim
            name = str(getattr(vec_type, "value_type", vec_type))
            tolerance = max(tolerance, NORM_TOLERANCE.get(name, max(NORM_TOLERANCE.values())))
            parts.append(part)
            counts.append(len(part_ids))
            ids.extend(part_ids)
        dim = int(dim if dim is not None else meta.get("dim") or 0)
        return cls(folder, tuple(parts), tuple(counts), ids, dim, meta, tolerance)

    @property
    def starts(self) -> np.ndarray:
        """The first row of each part in file order (and the total at the end)."""
        return np.concatenate([[0], np.cumsum(self.counts, dtype=np.int64)])

    def _wanted(self, rows: np.ndarray | None) -> list[int]:
        """Indices of the parts holding one of the sorted file rows ``rows`` (all: None)."""
        if rows is None:
            return list(range(len(self.parts)))
        lo = np.searchsorted(rows, self.starts[:-1])
        hi = np.searchsorted(rows, self.starts[1:])
        return [int(i) for i in np.flatnonzero(hi > lo)]

    def _read_part(self, i: int, work: Callable[[int, np.ndarray], None]) -> int:
        """Read part ``i`` a batch at a time, check and rescale, hand each to ``work``."""
        part, first, bad = self.parts[i], int(self.starts[i]), 0
        with pq.ParquetFile(part) as fh:
            for batch in fh.iter_batches(BATCH_ROWS, columns=[schemas.EMBEDDING_VECTOR]):
                flat = batch.column(0).flatten().to_numpy(zero_copy_only=False)
                x = np.asarray(flat, dtype=np.float32).reshape(batch.num_rows, self.dim)
                x, off = self._unit(part, first, x)
                bad += off
                work(first, x)
                first += batch.num_rows
        return bad

    def visit(self, work: Callable[[int, np.ndarray], None], rows: np.ndarray | None = None) -> int:
        """Call ``work(first row, float32 unit vectors)`` for each batch of every part (with
        ``rows``, sorted file rows: only the parts holding one of them), in
        :func:`read_threads` threads, in no fixed order; return how many vectors had a norm
        off by more than rounding. ``work`` runs in the reader threads (Parquet decoding
        and NumPy release the GIL), so it must only write rows of its own batch."""
        todo = self._wanted(rows)
        if len(todo) < 2:
            return sum(self._read_part(i, work) for i in todo)
        with ThreadPoolExecutor(read_threads(), thread_name_prefix="parts") as pool:
            return sum(pool.map(lambda i: self._read_part(i, work), todo))

    def _name(self, row: int) -> str:
        return self.ids[row] if row < len(self.ids) else f"row {row}"

    def _unit(self, part: Path, first: int, x: np.ndarray) -> tuple[np.ndarray, int]:
        """Check ``x`` and rescale it to unit norm (a copy when a row needs it and ``x`` is
        read-only); return it and how many norms were off by more than the stored type's
        rounding explains."""
        norms = np.linalg.norm(x, axis=1)
        finite = np.isfinite(x).all(axis=1) if not np.isfinite(norms).all() else None
        if finite is not None and not finite.all():
            bad = self._name(first + int(np.flatnonzero(~finite)[0]))
            raise InputError(
                str(part),
                f"{int((~finite).sum())} vector(s) with NaN/inf, e.g. tile "
                f"{bad!r}; re-run embed for them",
            )
        if (norms == 0).any():
            bad = self._name(first + int(np.flatnonzero(norms == 0)[0]))
            raise InputError(str(part), f"zero vector for tile {bad!r}")
        drift = np.abs(norms - 1.0)
        rescale = drift > RESCALE_ABOVE
        if rescale.any():
            x = x if x.flags.writeable else x.copy()
            x[rescale] /= norms[rescale, None]
        return x, int((drift > self.tolerance).sum())

    @property
    def rows(self) -> int:
        """Rows in all parts."""
        return int(sum(self.counts))

    def warn_unnormalised(self, off: int) -> None:
        """Log how many vectors a pass found with a norm off by more than rounding."""
        if off:
            log.warning("%s: %d vectors not L2-normalised; normalising them", self.folder, off)

    def gather(self, rows: np.ndarray, hashes: np.ndarray | None = None) -> np.ndarray:
        """The float32 unit vectors of file rows ``rows`` (any order, repeats allowed).

        With ``hashes`` (one slot per file row) every part is read, and each row's
        :func:`~pairs.vector_hash.row_hashes` is stored in its slot on the way."""
        uniq, inverse = np.unique(rows, return_inverse=True)
        out = np.empty((len(uniq), self.dim), dtype=np.float32)

        def keep(first: int, x: np.ndarray) -> None:
            if hashes is not None:
                hashes[first : first + len(x)] = row_hashes(x)
            lo, hi = np.searchsorted(uniq, [first, first + len(x)])
            out[lo:hi] = x[uniq[lo:hi] - first]

        if hashes is None:
            self.visit(keep, uniq)
        else:
            self.warn_unnormalised(self.visit(keep))
        return out if len(uniq) == len(rows) and (uniq == rows).all() else out[inverse]

    def hashes(self) -> np.ndarray:
        """:func:`~pairs.vector_hash.row_hashes` of every file row (one pass over the parts)."""
        out = np.empty(self.rows, dtype=np.uint64)
        self.gather(np.zeros(0, dtype=np.int64), out)
        return out
