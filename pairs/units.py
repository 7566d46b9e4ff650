"""Units of the CLIP search: the pieces that run as tasks, in this process or on Dask workers.

A unit is a batch of query tiles (exact search) or a few IVF lists. Every unit
reads the same :class:`SearchData` (scattered once to each Dask worker), finds
its CLIP pairs, recomputes both similarities exactly and keeps the pairs that
pass the search thresholds, so only candidates travel back. The union of the
units' candidates does not depend on where or in which order they ran.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from pairs.faiss_import import import_faiss
from pairs.pairset import Candidates, pair_keys, rowwise_dot
from pairs.search import Pairs, exact_batch, flat_index, list_pairs

_INDEXES: dict[str, Any] = {}  # run token -> the flat index of that run, one per process
_INDEX_LOCK = threading.Lock()


@dataclass(frozen=True)
class SearchData:
    """The arrays every unit of one search reads."""

    token: str  # names this search's flat index in the per-process cache
    clip: np.ndarray  # float32, or float16 (then the caller recomputes the similarities)
    dino: np.ndarray | None  # None: the caller applies the DINOv2 filter
    queries: np.ndarray  # tiles to search (the others only as partners)
    sample: np.ndarray | None = None  # recall sample of an IVF search
    probes: np.ndarray | None = None  # each tile's probed IVF lists (first = own)


@dataclass(frozen=True)
class Thresholds:
    """What a unit keeps: CLIP >= ``clip_min`` and DINOv2 < ``dino_max``; recall at ``tau_clip``."""

    clip_min: float
    dino_max: float
    tau_clip: float


@dataclass(frozen=True)
class UnitResult:
    """A unit's candidates, and the keys of the recall sample's pairs it found (IVF)."""

    candidates: Candidates
    found: np.ndarray


@dataclass(frozen=True)
class ExactUnit:
    """Query tiles ``rows`` against every tile, with a FAISS flat index."""

    side_by_side: ClassVar[bool] = False  # FAISS spreads one unit over its own threads
    rows: np.ndarray
    method: str
    gpu: bool = False

    def pairs(self, data: SearchData, radius: float) -> list[Pairs]:
        index = cached_index(data, self.gpu)
        return [exact_batch(index, data.clip, self.rows, data.queries, radius, self.method)]


@dataclass(frozen=True)
class IvfUnit:
    """IVF lists: each list's probing tiles scored against its members."""

    side_by_side: ClassVar[bool] = True  # NumPy pieces: units run in threads, one BLAS each
    lists: tuple[tuple[np.ndarray, np.ndarray], ...]  # (members, askers) of each list
    everyone: bool

    def pairs(self, data: SearchData, radius: float) -> list[Pairs]:
        if data.probes is None:
            raise ValueError("an IVF unit needs the search data's probes")
        return [
            found
            for members, askers in self.lists
            for found in list_pairs(
                data.clip, members, askers, data.queries, data.probes, radius, self.everyone
            )
        ]


Unit = ExactUnit | IvfUnit

# How far a dot product of float16-rounded unit vectors may fall below the float32 one:
# at most 2 * 2**-11 (each component rounded to 11 significant bits), plus float32 rounding.
FP16_SLACK = 1e-3


def search_slack(x: np.ndarray) -> float:
    """Extra margin of the search on ``x``: 0 for float32, :data:`FP16_SLACK` for float16."""
    return 0.0 if x.dtype == np.float32 else FP16_SLACK


def cached_index(data: SearchData, gpu: bool) -> Any:
    """The flat index over ``data.clip``: built once per process and search."""
    with _INDEX_LOCK:
        index = _INDEXES.get(data.token)
        if index is None:
            _INDEXES.clear()
            index = _INDEXES[data.token] = flat_index(import_faiss(), data.clip, gpu)
        return index


def release_indexes() -> None:
    """Forget this process's cached flat index (at the end of a search)."""
    with _INDEX_LOCK:
        _INDEXES.clear()


def set_threads(threads: int | None) -> None:
    """Let FAISS use ``threads`` OpenMP threads in this process (``None``: leave as is)."""
    if threads:
        import_faiss().omp_set_num_threads(int(threads))


def run_unit(
    unit: Unit, *, data: SearchData, limits: Thresholds, threads: int | None = None
) -> UnitResult:
    """Search one unit and keep the pairs passing ``limits`` (the task a worker runs).

    Without DINOv2 vectors (``data.dino`` None) the unit returns its CLIP pairs, down
    to the float16 slack when the CLIP vectors are float16, with NaN DINOv2
    similarities: the caller computes both exactly.
    """
    set_threads(threads)
    n = data.clip.shape[0]
    radius = limits.clip_min - search_slack(data.clip)
    final = data.dino is not None  # else the caller recomputes the similarities
    parts: list[Candidates] = []
    found: list[np.ndarray] = []
    for a, b in unit.pairs(data, radius):
        clip = rowwise_dot(data.clip, a, b)
        ok = clip >= np.float32(limits.clip_min if final else radius)
        a, b, clip = a[ok], b[ok], clip[ok]
        if not final:
            parts.append(Candidates(a, b, clip, np.full(len(a), np.nan, dtype=np.float32)))
            continue
        if data.sample is not None:
            s = (data.sample[a] | data.sample[b]) & (clip >= np.float32(limits.tau_clip))
            found.append(pair_keys(a[s], b[s], n))
        dino = rowwise_dot(data.dino, a, b)
        keep = dino < np.float32(limits.dino_max)
        parts.append(Candidates(a[keep], b[keep], clip[keep], dino[keep]))
    keys = np.concatenate(found) if found else np.zeros(0, np.int64)
    return UnitResult(Candidates.concat(parts), keys)
