"""Candidate pairs: CLIP search, exact similarities, the DINOv2 filter, the measured recall."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from pairs.faiss_import import gpu_count
from pairs.pairset import Candidates, pair_keys, rowwise_dot
from pairs.runner import LocalRunner, Runner
from pairs.search import MARGIN, build_lists, exact_method, query_batches
from pairs.search_plan import SearchPlan
from pairs.units import ExactUnit, IvfUnit, SearchData, Thresholds, Unit

RECALL_SEED = 0

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


def exact_neighbours(x: np.ndarray, rows: np.ndarray, tau: float) -> np.ndarray:
    """Keys of every pair (row, j) with CLIP >= tau, by brute force (for recall)."""
    n = x.shape[0]
    keys = []
    for s in range(0, len(rows), 256):
        r = rows[s : s + 256]
        i, j = np.nonzero(x[r] @ x.T >= tau - MARGIN)
        i = r[i]
        keep = i != j
        a, b = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
        ok = rowwise_dot(x, a, b) >= np.float32(tau)
        keys.append(pair_keys(a[ok], b[ok], n))
    return np.unique(np.concatenate(keys)) if keys else np.zeros(0, np.int64)


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
    """What is searched: CLIP and DINOv2 rows of the same tiles, and the tiles that query."""

    clip: np.ndarray
    dino: np.ndarray
    queries: np.ndarray  # bool per tile


@dataclass(frozen=True)
class SearchOptions:
    """How to search: ``batch`` query tiles per unit, a recall sample (0: none) and an
    exact-search method (None: the plan's)."""

    batch: int
    recall_sample: int = 0
    method: str | None = None


def _plan_units(
    faiss: Any, vectors: SearchVectors, plan: SearchPlan, options: SearchOptions, train_gpu: bool
) -> tuple[SearchData, list[Unit]]:
    """The search data and its units: query batches (exact) or IVF lists (k-means here)."""
    token = uuid.uuid4().hex
    clip_x, dino_x, queries = vectors.clip, vectors.dino, vectors.queries
    if plan.kind != "ivf":
        run = exact_method(plan.gpu, options.method)
        units: list[Unit] = [
            ExactUnit(r, run, plan.gpu) for r in query_batches(queries, options.batch)
        ]
        return SearchData(token, clip_x, dino_x, queries), units
    lists = build_lists(faiss, clip_x, dataclasses.replace(plan, gpu=train_gpu))
    everyone = bool(queries.all())
    groups = _list_groups(lists.own, lists.probing, options.batch)
    units = [IvfUnit(group, everyone) for group in groups]
    size = options.recall_sample
    sample = _recall_sample(queries, size) if size > 0 else None
    return SearchData(token, clip_x, dino_x, queries, sample, lists.probes), units


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
    clip_x = vectors.clip
    if clip_x.shape[0] < 2 or not vectors.queries.any():
        return SearchResult(Candidates.empty(), None, 0)
    runner = runner or LocalRunner()
    train_gpu = plan.gpu and gpu_count(faiss) > 0
    data, units = _plan_units(faiss, vectors, plan, options, train_gpu)
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
    cands = cands.take(np.lexsort((cands.b, cands.a)))
    if data.sample is None:
        return SearchResult(cands, None, 0)
    truth = exact_neighbours(clip_x, np.flatnonzero(data.sample), limits.tau_clip)
    got = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
    recall = float(np.isin(truth, got).mean()) if truth.size else None
    return SearchResult(cands, recall, int(truth.size))
