"""The CLIP search: exact methods agree; the IVF search finds >= 99% of the exact pairs."""

from __future__ import annotations

import numpy as np
import pytest

from pairs.candidates import SearchOptions, SearchVectors, Thresholds, find_candidates
from pairs.faiss_import import import_faiss
from pairs.search_plan import SearchPlan, auto_nlist, plan_search
from tests.pairs.inputs import unit


def clustered(n: int, dim: int, clusters: int, spread: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((clusters, dim)))
    labels = rng.integers(0, clusters, n)
    return unit(centres[labels] + spread * rng.standard_normal((n, dim)) / np.sqrt(dim))


def search(faiss, x, plan, tau, queries=None, dino_max=2.0, **options):
    """``find_candidates`` with ``x`` as both vector sets (all tiles queries by default)."""
    queries = np.ones(len(x), dtype=bool) if queries is None else queries
    return find_candidates(
        faiss,
        SearchVectors(x, x, queries),
        plan,
        Thresholds(clip_min=tau, dino_max=dino_max, tau_clip=tau),
        SearchOptions(batch=512, **options),
    )


def pair_set(faiss, x, plan, tau, queries=None, method=None) -> set[tuple[int, int]]:
    c = search(faiss, x, plan, tau, queries, method=method).candidates
    return set(zip(c.a.tolist(), c.b.tolist(), strict=True))


def brute(x: np.ndarray, tau: float) -> set[tuple[int, int]]:
    sims = x @ x.T
    a, b = np.nonzero(np.triu(sims >= np.float32(tau), k=1))
    return set(zip(a.tolist(), b.tolist(), strict=True))


def test_exact_range_and_knn_match_brute_force() -> None:
    faiss = import_faiss()
    x = clustered(600, 16, 20, 0.4)
    truth = brute(x, 0.9)
    assert len(truth) > 500  # many neighbours per tile: the knn method must grow k
    exact = SearchPlan("exact")
    assert pair_set(faiss, x, exact, 0.9, method="range") == truth
    assert pair_set(faiss, x, exact, 0.9, method="knn") == truth


def test_query_subset_finds_pairs_with_a_query_tile_only() -> None:
    faiss = import_faiss()
    x = clustered(400, 16, 10, 0.4, seed=1)
    queries = np.zeros(len(x), dtype=bool)
    queries[300:] = True
    want = {(a, b) for a, b in brute(x, 0.9) if queries[a] or queries[b]}
    assert pair_set(faiss, x, SearchPlan("exact"), 0.9, queries) == want
    ivf = plan_search(len(x), "ivf", 0, 0)
    got = pair_set(faiss, x, ivf, 0.9, queries)
    assert got <= want and len(got) >= 0.99 * len(want)


def test_ivf_recall_at_least_99_percent_of_exact() -> None:
    faiss = import_faiss()
    x = clustered(6000, 64, 1000, 0.25, seed=2)
    plan = plan_search(len(x), "auto", exact_max=1000, gpus=0)
    assert plan.kind == "ivf" and plan.nlist == auto_nlist(len(x))
    exact = pair_set(faiss, x, SearchPlan("exact"), 0.95)
    approx = pair_set(faiss, x, plan, 0.95)
    assert len(exact) > 1000
    assert approx <= exact
    assert len(approx & exact) / len(exact) >= 0.99


def test_measured_recall_is_reported_for_ivf() -> None:
    faiss = import_faiss()
    x = clustered(3000, 32, 150, 0.25, seed=3)
    plan = plan_search(len(x), "ivf", 0, 0)
    res = search(faiss, x, plan, 0.95, recall_sample=200)
    assert res.recall_pairs > 0 and res.recall is not None and 0.9 <= res.recall <= 1.0


@pytest.mark.parametrize(("n", "expected"), [(100, "exact"), (5000, "ivf")])
def test_plan_switches_at_exact_max(n: int, expected: str) -> None:
    assert plan_search(n, "auto", exact_max=1000, gpus=0).kind == expected
    assert plan_search(n, "auto", exact_max=1000, gpus=1).kind == "exact"


def test_knn_past_the_gpu_k_limit_finishes_rows_by_matrix_product(monkeypatch) -> None:
    from pairs import search

    monkeypatch.setattr(search, "GPU_MAX_K", 64)
    monkeypatch.setattr(search, "BLOCK_ELEMS", 600 * 7)  # a few rows per product
    faiss = import_faiss()
    x = clustered(600, 16, 5, 0.4, seed=4)  # ~120 tiles a cluster: rows with > 64 neighbours
    truth = brute(x, 0.9)
    assert pair_set(faiss, x, SearchPlan("exact"), 0.9, method="knn") == truth


def test_two_level_lists_keep_ivf_recall_at_least_99_percent(monkeypatch) -> None:
    from pairs import search

    monkeypatch.setattr(search, "FLAT_LISTS_MAX", 8)
    faiss = import_faiss()
    x = clustered(6000, 64, 1000, 0.25, seed=2)
    plan = SearchPlan("ivf", nlist=64, nprobe=8)
    probes = search.train_lists(faiss, x, plan)
    assert probes.shape == (len(x), 8)
    assert all(len(set(row)) == 8 for row in probes.tolist())  # no list probed twice
    # the first probe is the own list: the nearest of the probed ones
    exact = pair_set(faiss, x, SearchPlan("exact"), 0.95)
    approx = pair_set(faiss, x, plan, 0.95)
    assert len(exact) > 1000 and approx <= exact
    assert len(approx & exact) / len(exact) >= 0.99


def test_float16_vectors_are_searched_with_the_float16_slack() -> None:
    faiss = import_faiss()
    x = clustered(2000, 64, 300, 0.25, seed=4)
    plan = SearchPlan("exact")
    want = pair_set(faiss, x, plan, 0.95)
    got = pair_set(faiss, x.astype(np.float16), plan, 0.95)
    # float16 similarities may cross the threshold only within the slack
    from pairs.units import FP16_SLACK

    sims = {p: float(x[p[0]] @ x[p[1]]) for p in want ^ got}
    assert all(abs(s - 0.95) <= FP16_SLACK for s in sims.values())
    assert len(want) > 100


def test_two_level_probes_come_from_a_share_of_the_coarse_groups_at_scale() -> None:
    from pairs.search import near_groups

    assert near_groups(64, 8, 64) == 12  # 1M tiles: 4096 lists in 64 groups
    assert near_groups(45, 8, 45) == 9  # 250 000 tiles: 2048 lists in 45 groups
    assert near_groups(32, 8, 32) == 8
    assert near_groups(6, 8, 10) == 6  # never more groups than there are
    assert near_groups(40, 64, 4) == 16  # enough groups to hold nprobe lists


@pytest.mark.parametrize("threads", [1, 3])
def test_two_level_probes_are_the_nearest_lists_of_the_near_groups(monkeypatch, threads) -> None:
    from pairs import search

    monkeypatch.setattr(search, "ASSIGN_ELEMS", 16 * 37)  # blocks of 37 tiles
    rng = np.random.default_rng(5)
    x = unit(rng.standard_normal((300, 16))).astype(np.float32)
    coarse = unit(rng.standard_normal((10, 16))).astype(np.float32)
    cents = unit(rng.standard_normal((40, 16))).astype(np.float32)
    owner = rng.integers(0, 10, 40)
    owner[owner == 3] = 4  # an empty group
    got = search._probe_two_level(x, coarse, cents, owner, 5, threads)
    near = search.near_groups(9, 5, int(np.bincount(owner)[np.bincount(owner) > 0].min()))
    for i in range(len(x)):
        gsims = coarse @ x[i]
        gsims[3] = -np.inf
        allowed = np.isin(owner, np.argsort(-gsims)[:near])
        sims = np.where(allowed, cents @ x[i], -np.inf)
        assert got[i].tolist() == np.argsort(-sims, kind="stable")[:5].tolist()


@pytest.mark.parametrize("count", [5, 4096, 70_000])
def test_stable_order_is_numpys_stable_argsort(count: int) -> None:
    from pairs.search import stable_order

    labels = np.random.default_rng(count).integers(0, count, 50_000)
    want = np.argsort(labels, kind="stable")
    np.testing.assert_array_equal(stable_order(labels, count), want)
