"""bfloat16 products in the IVF scoring: the same candidates as float32 products."""

from __future__ import annotations

import numpy as np
import pytest

from pairs import bf16
from pairs.candidates import SearchOptions, SearchVectors, Thresholds, find_candidates
from pairs.faiss_import import import_faiss
from pairs.search_plan import SearchPlan
from tests.pairs.inputs import unit
from tests.pairs.test_search import clustered


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


def test_hits_hold_every_pair_of_the_float32_product(bf16_on) -> None:
    """Near-threshold pairs: every float32 hit is a bfloat16 hit, none beyond the slack."""
    rng = np.random.default_rng(5)
    base = unit(rng.standard_normal((40, 768)))
    # partners at similarities spread around the radius
    noise = unit(rng.standard_normal((40 * 25, 768)))
    mix = rng.uniform(0.2, 0.6, (len(noise), 1)).astype(np.float32)
    x = unit(np.concatenate([base, np.repeat(base, 25, axis=0) + mix * noise]))
    x16 = x.astype(np.float16)
    q, d = np.arange(40), np.arange(40, len(x))
    wide = x16[q].astype(np.float32) @ x16[d].astype(np.float32).T
    radius = float(np.median(wide[wide > 0.5]))
    r, c = bf16.Scorer(x16, d).hits(q, radius)
    got = set(zip(r.tolist(), c.tolist(), strict=True))
    want = set(zip(*map(np.ndarray.tolist, np.nonzero(wide >= radius)), strict=True))
    assert len(want) > 100 and want <= got
    assert wide[r, c].min() >= radius - bf16.SLACK
    # row-major order, as NumPy's nonzero gives it
    assert np.array_equal(np.lexsort((c, r)), np.arange(len(r)))


def test_ivf_candidates_are_the_same_with_bf16_products(monkeypatch) -> None:
    faiss = import_faiss()
    x = clustered(3000, 64, 400, 0.25, seed=6).astype(np.float16)
    plan = SearchPlan("ivf", nlist=32, nprobe=4)

    def run(flag: str):
        monkeypatch.setenv(bf16.ENV, flag)
        bf16.enabled.cache_clear()
        res = find_candidates(
            faiss,
            SearchVectors(x, x, np.ones(len(x), bool)),
            plan,
            Thresholds(clip_min=0.95, dino_max=0.99, tau_clip=0.95),
            SearchOptions(batch=512, recall_sample=300),
        )
        bf16.enabled.cache_clear()
        return res

    off, on = run("0"), run("1")
    assert len(off.candidates.a) > 500
    for name in ("a", "b", "clip", "dino"):
        assert np.array_equal(getattr(off.candidates, name), getattr(on.candidates, name))
    assert on.recall == off.recall
