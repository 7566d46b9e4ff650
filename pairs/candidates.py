"""Candidate pairs: CLIP search, exact similarities, the DINOv2 filter, the measured recall."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from pairs import bf16
from pairs.faiss_import import gpu_count
from pairs.pairset import Candidates, pair_keys, rowwise_dot
from pairs.parallel import cpu_threads, ordered_threads
from pairs.rows import PartRows, pair_dots, search_matrix
from pairs.runner import LocalRunner, Runner
from pairs.search import MARGIN, build_lists, exact_method, query_batches
from pairs.search_plan import SearchPlan
from pairs.units import ExactUnit, IvfUnit, SearchData, Thresholds, Unit, search_slack
from pairs.widen import gather, widen

RECALL_SEED = 0
EXACT_BLOCK_ELEMS = 1 << 25  # held rows x dim widened at a time by exact_neighbours

__all__ = [
    "Candidates",
    "SearchOptions",
    "SearchResult",
    "SearchVectors",
    "Thresholds",
    "exact_neighbours",
    "find_candidates",
    "rowwise_dot",
]


def exact_neighbours(
    x: np.ndarray | PartRows, rows: np.ndarray, tau: float, threads: int = 1
) -> np.ndarray:
    """Keys of every pair (row, j) with CLIP >= tau, by brute force (for recall).

    The held vectors are scanned in column blocks (float16 ones widened a block at a
    time, or multiplied in bfloat16 where :func:`pairs.bf16.usable`), ``threads``
    blocks side by side, and the pairs found are checked with :func:`pair_dots`.
    """
    held = search_matrix(x)
    n = held.shape[0]
    radius = np.float32(tau - MARGIN - search_slack(held))
    step = max(1, EXACT_BLOCK_ELEMS // max(1, held.shape[1] * threads))  # the same memory
    found_i, found_j = [], []
    fast = bf16.usable(held)
    for s in range(0, len(rows), 512):
        r = rows[s : s + 512]
        # not pairs.search.pair_hits: its float32 path gathers each column block by index,
        # which doubled this step's peak at 1M (docs/performance.md)
        xr = bf16.Scorer(held, r) if fast else gather(held, r)

        def block(c: int, r: np.ndarray = r, xr: Any = xr) -> tuple[np.ndarray, np.ndarray]:
            if isinstance(xr, bf16.Scorer):
                j, i = xr.hits(np.arange(c, min(n, c + step)), float(radius))
            else:
                i, j = np.nonzero(xr @ widen(held[c : c + step]).T >= radius)
            return r[i], j + c

        for fi, fj in ordered_threads(block, range(0, n, step), threads):
            found_i.append(fi)
            found_j.append(fj)
    if not found_i:
        return np.zeros(0, np.int64)
    i, j = np.concatenate(found_i), np.concatenate(found_j)
    keep = i != j
    a, b = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
    ok = pair_dots(x, a, b) >= np.float32(tau)
    return np.unique(pair_keys(a[ok], b[ok], n))


@dataclass
class SearchResult:
    candidates: Candidates
    recall: float | None
    recall_pairs: int


def _recall_sample(queries: np.ndarray, size: int) -> np.ndarray:
    sample = np.zeros(len(queries), dtype=bool)
    qidx = np.flatnonzero(queries)
    rng = np.random.default_rng(RECALL_SEED)
    sample[np.sort(rng.choice(qidx, min(size, len(qidx)), replace=False))] = True
    return sample


def _list_groups(
    own: list[np.ndarray], probing: list[np.ndarray], batch: int
) -> list[tuple[tuple[np.ndarray, np.ndarray], ...]]:
    """Non-empty lists in order, grouped until a group's probing tiles reach ``batch``."""
    groups: list[tuple[tuple[np.ndarray, np.ndarray], ...]] = []
    group: list[tuple[np.ndarray, np.ndarray]] = []
    size = 0
    for members, askers in zip(own, probing, strict=True):
        if not (members.size and askers.size):
            continue
        group.append((members, askers))
        size += askers.size
        if size >= batch:
            groups.append(tuple(group))
            group, size = [], 0
    if group:
        groups.append(tuple(group))
    return groups


@dataclass(frozen=True)
class SearchVectors:
    """What is searched: CLIP and DINOv2 rows of the same tiles, and the tiles that query.

    float32 arrays are searched and filtered by the units; with :class:`PartRows`
    (CLIP held as float16, DINOv2 not held) the units return CLIP pairs and both
    similarities are computed here from the exact rows (:func:`pairs.rows.pair_dots`).
    """

    clip: np.ndarray | PartRows
    dino: np.ndarray | PartRows
    queries: np.ndarray  # bool per tile

    @property
    def held(self) -> bool:
        """True when both sets are arrays (the units apply the DINOv2 filter)."""
        return isinstance(self.clip, np.ndarray) and isinstance(self.dino, np.ndarray)


@dataclass(frozen=True)
class SearchOptions:
    """How to search: ``batch`` query tiles per unit, a recall sample (0: none) and an
    exact-search method (None: the plan's)."""

    batch: int
    recall_sample: int = 0
    method: str | None = None


def _plan_units(
    faiss: Any,
    vectors: SearchVectors,
    plan: SearchPlan,
    options: SearchOptions,
    train_gpu: bool,
    threads: int,
) -> tuple[SearchData, list[Unit]]:
    """The search data and its units: query batches (exact) or IVF lists (k-means here,
    probed on ``threads`` threads)."""
    token = uuid.uuid4().hex
    clip_x, queries = search_matrix(vectors.clip), vectors.queries
    dino_x = vectors.dino if vectors.held and isinstance(vectors.dino, np.ndarray) else None
    if plan.kind != "ivf":
        run = exact_method(plan.gpu, options.method)
        units: list[Unit] = [
            ExactUnit(r, run, plan.gpu) for r in query_batches(queries, options.batch)
        ]
        return SearchData(token, clip_x, dino_x, queries), units
    lists = build_lists(faiss, clip_x, dataclasses.replace(plan, gpu=train_gpu), threads)
    everyone = bool(queries.all())
    groups = _list_groups(lists.own, lists.probing, options.batch)
    units = [IvfUnit(group, everyone) for group in groups]
    size = options.recall_sample
    sample = _recall_sample(queries, size) if size > 0 else None
    return SearchData(token, clip_x, dino_x, queries, sample, lists.probes), units


def _check_exactly(
    vectors: SearchVectors, c: Candidates, limits: Thresholds, sample: np.ndarray | None
) -> tuple[Candidates, np.ndarray]:
    """The CLIP pairs ``c`` with both similarities from the exact rows, filtered by
    ``limits``; and the keys of the recall sample's pairs among them."""
    n = vectors.clip.shape[0]
    clip = pair_dots(vectors.clip, c.a, c.b)
    ok = clip >= np.float32(limits.clip_min)
    a, b, clip = c.a[ok], c.b[ok], clip[ok]
    keys = np.zeros(0, np.int64)
    if sample is not None:
        s = (sample[a] | sample[b]) & (clip >= np.float32(limits.tau_clip))
        keys = pair_keys(a[s], b[s], n)
    dino = pair_dots(vectors.dino, a, b)
    keep = dino < np.float32(limits.dino_max)
    return Candidates(a[keep], b[keep], clip[keep], dino[keep]), keys


def find_candidates(
    faiss: Any,
    vectors: SearchVectors,
    plan: SearchPlan,
    limits: Thresholds,
    options: SearchOptions,
    *,
    bar: Any = None,
    runner: Runner | None = None,
) -> SearchResult:
    """Pairs with CLIP >= ``limits.clip_min`` and DINOv2 < ``limits.dino_max`` among/with
    the query tiles.

    The search runs as units on ``runner`` (default: in this process); IVF lists
    are trained here, with the GPU only when this process's FAISS has one.
    """
    if vectors.clip.shape[0] < 2 or not vectors.queries.any():
        return SearchResult(Candidates.empty(), None, 0)
    runner = runner or LocalRunner()
    train_gpu = plan.gpu and gpu_count(faiss) > 0
    threads = cpu_threads(runner.threads)
    data, units = _plan_units(faiss, vectors, plan, options, train_gpu, threads)
    if bar is not None:
        bar.total = len(units)
    parts: list[Candidates] = []
    found: list[np.ndarray] = []
    for result in runner.run(units, data, limits):
        parts.append(result.candidates)
        found.append(result.found)
        if bar is not None:
            bar.update(1)
    cands = Candidates.concat(parts)
    if data.dino is None:
        cands, keys = _check_exactly(vectors, cands, limits, data.sample)
        found.append(keys)
    cands = cands.take(np.lexsort((cands.b, cands.a)))
    if data.sample is None:
        return SearchResult(cands, None, 0)
    truth = exact_neighbours(vectors.clip, np.flatnonzero(data.sample), limits.tau_clip, threads)
    got = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
    recall = float(np.isin(truth, got).mean()) if truth.size else None
    return SearchResult(cands, recall, int(truth.size))
