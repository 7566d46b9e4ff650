"""bfloat16 products in the IVF scoring: the same candidates as float32 products."""

from __future__ import annotations

import numpy as np
import pytest

from pairs import bf16
from pairs.faiss_import import import_faiss
from pairs.search_plan import SearchPlan
from tests.pairs.test_search import clustered, search


@pytest.fixture
def bf16_on(monkeypatch) -> None:
    """bfloat16 products forced on (emulated, and slow, on CPUs without them)."""
    monkeypatch.setenv(bf16.ENV, "1")
    bf16.enabled.cache_clear()
    yield
    bf16.enabled.cache_clear()


@pytest.mark.parametrize(("value", "expected"), [("0", False), ("1", True)])
def test_the_environment_decides_over_the_cpu(monkeypatch, value, expected) -> None:
    monkeypatch.setenv(bf16.ENV, value)
    bf16.enabled.cache_clear()
    try:
        assert bf16.enabled() is expected
        assert bf16.usable(np.zeros((2, 4), np.float16)) is expected
        assert not bf16.usable(np.zeros((2, 4), np.float32))  # float32 rows: float32 products
    finally:
        bf16.enabled.cache_clear()


def test_buckets_are_few_and_at_most_an_eighth_larger() -> None:
    sizes = [bf16.bucket(n) for n in range(1, 5000)]
    assert all(b >= n and b % 16 == 0 for n, b in enumerate(sizes, 1))
    assert all(b <= n * 1.125 for n, b in enumerate(sizes, 1) if n > 128)
    assert len(set(sizes)) < 80


def test_hits_are_the_pairs_of_the_float32_product_in_its_order(bf16_on) -> None:
    """Many rows (several chunks, the last one padded), many hits a column: exactly the
    pairs of NumPy's float32 product, in NumPy's row-major order."""
    x16 = clustered(1500, 768, 20, 0.5, seed=5).astype(np.float16)
    q, d = np.arange(100, 1400), np.arange(200)  # 1300 rows: 512 + 512 + 276
    wide = x16[q].astype(np.float32) @ x16[d].astype(np.float32).T
    values = np.unique(wide)
    start = int(np.searchsorted(values, np.quantile(wide, 0.95)))
    gap = start + int(np.flatnonzero(np.diff(values[start:]) > 1e-5)[0])
    radius = float((values[gap] + values[gap + 1]) / 2)  # no product within rounding of it
    r, c = bf16.Scorer(x16, d).hits(q, radius)
    want_r, want_c = np.nonzero(wide >= radius)
    assert len(want_r) > 2000 and np.bincount(want_c).max() > 20
    assert np.array_equal(r, want_r) and np.array_equal(c, want_c)


def test_the_slack_covers_rows_that_bfloat16_rounds_down_the_most(bf16_on, monkeypatch) -> None:
    """Every component (1 + 2**-8) * 2**-5: a bfloat16 tie rounded down to even, so the
    product falls ~0.0097 short (the bound is 0.0099); half the slack loses the pair."""
    dim = 1016  # unit rows
    a = np.full(dim, (1 + 2**-8) * 2**-5, dtype=np.float16)
    b = a.copy()
    b[:3] = -b[:3]
    x = np.stack([a, b])
    radius = float(x[0].astype(np.float32) @ x[1].astype(np.float32))
    r, c = bf16.Scorer(x, np.array([1])).hits(np.array([0]), radius - 1e-6)
    assert (r.tolist(), c.tolist()) == ([0], [0])
    monkeypatch.setattr(bf16, "SLACK", 0.005)
    r, _ = bf16.Scorer(x, np.array([1])).hits(np.array([0]), radius - 1e-6)
    assert r.size == 0


def test_ivf_candidates_are_the_same_with_bf16_products(monkeypatch) -> None:
    faiss = import_faiss()
    x = clustered(3000, 64, 400, 0.25, seed=6).astype(np.float16)
    plan = SearchPlan("ivf", nlist=32, nprobe=4)

    def run(flag: str):
        monkeypatch.setenv(bf16.ENV, flag)
        bf16.enabled.cache_clear()
        res = search(faiss, x, plan, 0.95, dino_max=0.99, recall_sample=300)
        bf16.enabled.cache_clear()
        return res

    off, on = run("0"), run("1")
    assert len(off.candidates.a) > 500
    for name in ("a", "b", "clip", "dino"):
        assert np.array_equal(getattr(off.candidates, name), getattr(on.candidates, name))
    assert on.recall == off.recall


def test_floor_bits_are_the_largest_bfloat16_not_above() -> None:
    import torch

    values = np.concatenate([np.random.default_rng(2).uniform(1e-3, 1, 500), [0.9375, 2**-20]])
    for v in values.astype(np.float32):
        bits = bf16.floor_bits(float(v))
        below = torch.tensor([bits, bits + 1], dtype=torch.int16).view(torch.bfloat16).float()
        assert below[0] <= v < below[1]
    assert bf16.floor_bits(0.0) is None and bf16.floor_bits(-0.3) is None


@pytest.mark.parametrize(
    ("floor", "lowest"), [(0.3125, 0.3125), (0.3, 0.298828125), (0.0, 0.0), (-0.2, -0.2)]
)
def test_products_reaching_a_floor_by_bits_or_by_value(floor: float, lowest: float) -> None:
    """Positive floors: every product >= the largest bfloat16 <= floor (0.3 -> 0.298828);
    others: compared in float32, exactly."""
    import torch

    rng = np.random.default_rng(5)
    sims = torch.from_numpy(rng.uniform(-1, 1, (64, 96)).astype(np.float32)).to(torch.bfloat16)
    sims[3, 7], sims[5, 0], sims[6, 1] = 0.0, -0.0, 0.298828125
    values = sims.float().numpy().ravel()
    got = bf16.Scorer._reaching(torch, sims, bf16.floor_bits(floor), floor)
    np.testing.assert_array_equal(got, np.flatnonzero(values >= np.float32(lowest)))
    assert set(np.flatnonzero(values >= np.float32(floor))) <= set(got)
