"""CLIP search: every pair of tiles whose inner product reaches a radius.

The pieces that :mod:`pairs.units` runs as tasks: a flat index searched a batch
of query tiles at a time (exact), and IVF lists scored list by list. Each piece
yields ``(a, b)`` index arrays (``a < b``), every pair at most once, and only
pairs with at least one *query* tile (the new tiles of an incremental run; all
tiles otherwise). The caller recomputes the exact similarities, so a piece may
return a few pairs just under the radius.
See :mod:`pairs.search_plan` for the methods and their parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from pairs import bf16
from pairs.parallel import ordered_threads
from pairs.search_plan import SearchPlan
from pairs.widen import gather, widen

Pairs = tuple[np.ndarray, np.ndarray]
# Searches return pairs down to radius - MARGIN, so float rounding of the search
# never loses a pair that the exact recomputation keeps.
MARGIN = 1e-5
GPU_MAX_K = 2048
BLOCK_ELEMS = 1 << 22
ASSIGN_ELEMS = 1 << 24  # rows x dim assigned to lists at a time (64 MiB of float32)
MIN_BLOCK_ROWS = 1024  # tiles a probing block holds at least, however many threads
KMEANS_SEED = 1234
KMEANS_ITER = 10
KMEANS_POINTS = 64  # training tiles per list
FLAT_LISTS_MAX = 1024  # more lists than this are trained and probed in two levels
TWO_LEVEL_POINTS = 16  # training tiles per list of a two-level k-means
NEAR_GROUPS = 8  # coarse groups whose lists a tile may probe, at least
NEAR_SHARE = 3 / 16  # ... and at least this share of the coarse groups (12 of 64 at 1M tiles)


def _canonical(rows: np.ndarray, cols: np.ndarray, queries: np.ndarray) -> Pairs:
    """Drop self pairs and the second copy of query-query pairs; order each pair."""
    keep = (rows != cols) & (~queries[cols] | (rows < cols))
    rows, cols = rows[keep], cols[keep]
    return np.minimum(rows, cols), np.maximum(rows, cols)


def flat_index(faiss: Any, x: np.ndarray, gpu: bool) -> Any:
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(np.ascontiguousarray(x, dtype=np.float32))
    return faiss.index_cpu_to_all_gpus(index) if gpu else index


def _range_batches(index: Any, x: np.ndarray, q: np.ndarray, radius: float) -> Pairs:
    lims, _, found = index.range_search(gather(x, q), radius)
    return np.repeat(q, np.diff(lims).astype(np.int64)), found.astype(np.int64)


def _knn_batches(index: Any, x: np.ndarray, q: np.ndarray, radius: float) -> Pairs:
    """k-NN with k growing x4 while a row's k-th neighbour still reaches the radius."""
    n = x.shape[0]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    pending, k = q, min(n, 64)
    while pending.size:
        sims, found = index.search(gather(x, pending), k)
        full = sims[:, -1] >= radius if k < n else np.zeros(len(pending), dtype=bool)
        hit = (sims >= radius) & (found >= 0) & ~full[:, None]
        r, c = np.nonzero(hit)
        rows.append(pending[r])
        cols.append(found[r, c].astype(np.int64))
        pending = pending[full]
        if pending.size and k >= GPU_MAX_K:  # past the GPU's k: finish these rows with BLAS
            step = max(1, BLOCK_ELEMS // n)
            for s in range(0, len(pending), step):
                part = pending[s : s + step]
                r, c = np.nonzero(gather(x, part) @ widen(x).T >= radius)
                rows.append(part[r])
                cols.append(c.astype(np.int64))
            break
        k = min(n, k * 4)
    return np.concatenate(rows), np.concatenate(cols)


EXACT_METHODS: dict[str, Callable[[Any, np.ndarray, np.ndarray, float], Pairs]] = {
    "range": _range_batches,
    "knn": _knn_batches,
}


def exact_batch(
    index: Any, x: np.ndarray, rows: np.ndarray, queries: np.ndarray, radius: float, method: str
) -> Pairs:
    """Pairs of the query tiles ``rows`` with every tile, from a flat index over ``x``."""
    found_rows, cols = EXACT_METHODS[method](index, x, rows, radius - MARGIN)
    return _canonical(found_rows, cols, queries)


def exact_method(gpu: bool, method: str | None = None) -> str:
    """The exact search method: range search on the CPU, growing k-NN on the GPU."""
    return method or ("knn" if gpu else "range")


def query_batches(queries: np.ndarray, batch: int) -> list[np.ndarray]:
    """The query tiles' indices in batches of ``batch``."""
    qidx = np.flatnonzero(queries)
    return [qidx[start : start + batch] for start in range(0, len(qidx), batch)]


def stable_order(labels: np.ndarray, count: int) -> np.ndarray:
    """``np.argsort(labels, kind="stable")`` of labels in ``range(count)``: as 16-bit
    labels when they fit, which NumPy radix-sorts (8M labels: 0.2 s against 1.06 s)."""
    if count <= 1 << 16:
        labels = labels.astype(np.uint16)
    return np.argsort(labels, kind="stable")


def _groups(labels: np.ndarray, nlist: int) -> list[np.ndarray]:
    """The tiles of each list, in tile order: ``labels`` (tiles x k) holds each tile's
    lists; each group is a view of one array (no copy per list)."""
    per = labels.shape[1] if labels.ndim == 2 else 1
    order = stable_order(labels.ravel(), nlist)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(labels.ravel(), minlength=nlist))])
    order //= per
    return [order[bounds[i] : bounds[i + 1]] for i in range(nlist)]


def _kmeans(faiss: Any, x: np.ndarray, k: int, gpu: bool) -> Any:
    """Spherical k-means of the float32 rows ``x`` (trained ``faiss.Kmeans``)."""
    km = faiss.Kmeans(
        x.shape[1],
        k,
        niter=KMEANS_ITER,
        seed=KMEANS_SEED,
        spherical=True,
        gpu=gpu,
        max_points_per_centroid=KMEANS_POINTS,
        min_points_per_centroid=1,
        verbose=False,
    )
    threads = faiss.omp_get_max_threads()
    if not gpu:  # small k-means: a team of OpenMP threads costs ~20x the work (2 loaded cores)
        faiss.omp_set_num_threads(1)
    try:
        km.train(x)
    finally:
        faiss.omp_set_num_threads(threads)
    return km


def _top(sims: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` largest values, largest first."""
    if k >= sims.shape[1]:
        return np.argsort(-sims, axis=1, kind="stable")
    part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def _best(sims: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` largest values, in no particular order (a
    partition: the values' sort costs as much again, and the caller sorts later)."""
    cols = sims.shape[1]
    if k >= cols:
        return np.broadcast_to(np.arange(cols), sims.shape)
    return np.argpartition(sims, cols - k, axis=1)[:, cols - k :]


def train_lists(faiss: Any, x: np.ndarray, plan: SearchPlan, threads: int = 1) -> np.ndarray:
    """Spherical k-means over ``x``; return each tile's ``nprobe`` nearest lists (first = own).

    Up to :data:`FLAT_LISTS_MAX` lists: one k-means, every tile scored against every
    list by FAISS. Above: two levels (:func:`_two_level_lists`), probed on
    ``threads`` threads.
    """
    if plan.nlist > FLAT_LISTS_MAX:
        return _two_level_lists(faiss, x, plan, threads)
    n, dim = x.shape
    rng = np.random.default_rng(KMEANS_SEED)
    sample = np.sort(rng.choice(n, min(n, KMEANS_POINTS * plan.nlist), replace=False))
    km = _kmeans(faiss, np.ascontiguousarray(x[sample], dtype=np.float32), plan.nlist, plan.gpu)
    probes = np.empty((n, plan.nprobe), dtype=np.int64)
    step = max(1, ASSIGN_ELEMS // dim)
    for s in range(0, n, step):
        _, probes[s : s + step] = km.index.search(widen(x[s : s + step]), plan.nprobe)
    return probes


def _two_level_lists(faiss: Any, x: np.ndarray, plan: SearchPlan, threads: int) -> np.ndarray:
    """Lists as sub-clusters of ~sqrt(nlist) coarse groups, and each tile's probes.

    Training: k-means into the coarse groups on a sample of
    :data:`TWO_LEVEL_POINTS` tiles a list, then each group's sample into its share of
    the lists. Probing: the ``nprobe`` nearest lists among those of the tile's
    :func:`near_groups` nearest coarse groups. Costs
    ~N * (groups + near groups * lists a group) * dim instead of N * nlist * dim; the
    probes are approximate near group borders (the measured recall says how much).
    """
    n = x.shape[0]
    rng = np.random.default_rng(KMEANS_SEED)
    sample = np.sort(rng.choice(n, min(n, TWO_LEVEL_POINTS * plan.nlist), replace=False))
    xs = np.ascontiguousarray(x[sample], dtype=np.float32)
    ngroups = max(2, round(math.sqrt(plan.nlist)))
    coarse = _kmeans(faiss, xs, ngroups, plan.gpu).centroids
    group = np.argmax(xs @ coarse.T, axis=1)
    share = np.maximum(1, np.cumsum(np.bincount(group, minlength=ngroups)) * plan.nlist // len(xs))
    share = np.diff(np.concatenate([[0], share]))
    fine, owner = [], []
    for g in range(ngroups):
        members = xs[group == g]
        k = int(min(share[g], len(members)))
        if k < 1:
            continue
        fine.append(
            members if k == len(members) else _kmeans(faiss, members, k, plan.gpu).centroids
        )
        owner.append(np.full(k, g))
    cents = np.ascontiguousarray(np.concatenate(fine), dtype=np.float32)
    del xs, fine, members  # the training sample is not needed while probing
    owner_of = np.concatenate(owner)
    return _probe_two_level(x, coarse, cents, owner_of, plan.nprobe, threads)


def near_groups(groups: int, nprobe: int, fewest: int) -> int:
    """How many of ``groups`` non-empty coarse groups a tile's probes come from:
    :data:`NEAR_GROUPS`, or :data:`NEAR_SHARE` of them when more, or enough groups of
    ``fewest`` lists to hold ``nprobe`` lists."""
    share = math.ceil(NEAR_SHARE * groups)
    return min(groups, max(NEAR_GROUPS, share, -(-nprobe // fewest)))


def _probe_two_level(
    x: np.ndarray,
    coarse: np.ndarray,
    cents: np.ndarray,
    owner_of: np.ndarray,
    nprobe: int,
    threads: int = 1,
) -> np.ndarray:
    """Each tile's ``nprobe`` nearest lists (``cents``, in coarse groups ``owner_of``)
    among those of its nearest coarse groups, nearest first; a block of tiles at a time
    (widened once), one matrix product per (block, group), blocks side by side on
    ``threads`` threads."""
    n, dim = x.shape
    nprobe = min(nprobe, len(cents))
    groups = [np.flatnonzero(owner_of == g) for g in range(len(coarse))]
    empty = np.array([not g.size for g in groups])
    fewest = min(g.size for g in groups if g.size)
    near = near_groups(int((~empty).sum()), nprobe, fewest)
    probes = np.empty((n, nprobe), dtype=np.int64)
    # blocks in flight hold as much as two whole blocks, on any number of threads
    fewest = min(MIN_BLOCK_ROWS, ASSIGN_ELEMS // dim)
    step = max(fewest, 2 * ASSIGN_ELEMS // (dim * max(2, threads)))

    def block(s: int) -> None:
        xb = widen(x[s : s + step])
        top = _top(np.where(empty, -np.inf, xb @ coarse.T), near)
        probes[s : s + step] = _probe_block(xb, top, groups, cents, nprobe)

    for _ in ordered_threads(block, range(0, n, step), threads):
        pass
    return probes


def _probe_block(
    xb: np.ndarray, top: np.ndarray, groups: list[np.ndarray], cents: np.ndarray, nprobe: int
) -> np.ndarray:
    """The ``nprobe`` nearest lists of the float32 tiles ``xb`` among the lists of their
    near groups ``top`` (tiles x near): each group's best ``nprobe`` lists (unordered)
    go into the tile's slots of that group's rank, then the best slots win, in order."""
    b, near = top.shape
    sims = np.full((b, near * nprobe), -np.inf, dtype=np.float32)
    ids = np.zeros((b, near * nprobe), dtype=np.int64)
    flat = top.ravel()
    order = stable_order(flat, len(groups))
    bounds = np.searchsorted(flat[order], np.arange(len(groups) + 1))
    for g, lists in enumerate(groups):
        pos = order[bounds[g] : bounds[g + 1]]
        if not (pos.size and lists.size):
            continue
        rows, rank = pos // near, pos % near
        found = xb[rows] @ cents[lists].T
        pick = _best(found, min(nprobe, len(lists)))
        cols = rank[:, None] * nprobe + np.arange(pick.shape[1])
        sims[rows[:, None], cols] = np.take_along_axis(found, pick, axis=1)
        ids[rows[:, None], cols] = lists[pick]
    return np.take_along_axis(ids, _top(sims, nprobe), axis=1)


def pair_hits(x: np.ndarray, d: np.ndarray) -> Callable[[np.ndarray, float], Pairs]:
    """``hits(q, radius)``: positions ``(r, c)`` in ``q`` and ``d`` of the pairs of rows
    of ``x`` whose float32 product reaches ``radius``, in row-major order; ``d``'s rows
    are prepared once. From bfloat16 products where :func:`pairs.bf16.usable`."""
    if bf16.usable(x):
        return bf16.Scorer(x, d).hits
    xd = gather(x, d)
    return lambda q, radius: np.nonzero(gather(x, q) @ xd.T >= radius)


def _score_block(
    x: np.ndarray, q: np.ndarray, d: np.ndarray, radius: float, probes: np.ndarray
) -> Iterator[Pairs]:
    hits = pair_hits(x, d)
    step = max(1, BLOCK_ELEMS // max(1, len(d)))
    for start in range(0, len(q), step):
        qc = q[start : start + step]
        r, c = hits(qc, radius)
        if not r.size:
            continue
        qi, dj = qc[r], d[c]
        # The reverse route (dj probing qi's own list) finds the pair too: keep one copy.
        reverse = (probes[dj] == probes[qi, :1]).any(axis=1)
        keep = (qi != dj) & (~reverse | (qi < dj))
        qi, dj = qi[keep], dj[keep]
        yield np.minimum(qi, dj), np.maximum(qi, dj)


@dataclass(frozen=True)
class Lists:
    """The IVF lists: each tile's probed lists (first = own), members and probers of each list."""

    probes: np.ndarray
    own: list[np.ndarray]
    probing: list[np.ndarray]


def build_lists(faiss: Any, x: np.ndarray, plan: SearchPlan, threads: int = 1) -> Lists:
    """Train the lists (probed on ``threads`` threads) and group the tiles by own and by
    probed list."""
    probes = train_lists(faiss, x, plan, threads)
    own = _groups(probes[:, 0], plan.nlist)
    probing = _groups(probes, plan.nlist)
    return Lists(probes, own, probing)


def list_pairs(
    x: np.ndarray,
    members: np.ndarray,
    askers: np.ndarray,
    queries: np.ndarray,
    probes: np.ndarray,
    radius: float,
    everyone: bool,
) -> Iterator[Pairs]:
    """Pairs of one list: its probers scored against its members (a query tile in each pair)."""
    if everyone:
        blocks = [(askers, members)]
    else:
        blocks = [
            (askers[queries[askers]], members),
            (askers[~queries[askers]], members[queries[members]]),
        ]
    for q, d in blocks:
        if q.size and d.size:
            yield from _score_block(x, q, d, radius - MARGIN, probes)
