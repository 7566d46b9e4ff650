"""IVF pieces side by side: results in order, bounded, errors raised, BLAS on one thread."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from pairs.candidates import SearchOptions, SearchVectors, Thresholds, find_candidates
from pairs.faiss_import import import_faiss
from pairs.parallel import cpu_threads, ordered_threads
from pairs.runner import LocalRunner
from pairs.search_plan import SearchPlan
from tests.pairs.test_search import clustered


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_results_come_in_input_order_though_later_items_finish_first() -> None:
    def slow_first(i: int) -> int:
        time.sleep(0.05 if i % 4 == 0 else 0.0)
        return i * i

    assert list(ordered_threads(slow_first, range(20), threads=3)) == [i * i for i in range(20)]


def test_no_more_than_the_window_is_started_ahead_of_the_consumer() -> None:
    pulled = []

    def items():
        for i in range(50):
            pulled.append(i)
            yield i

    it = ordered_threads(lambda i: i, items(), threads=2, window=3)
    assert next(it) == 0
    assert len(pulled) <= 4  # the window, and the one submitted as the first came back
    assert list(it) == list(range(1, 50))


def test_an_error_is_raised_and_the_items_not_started_are_dropped() -> None:
    started = []
    lock = threading.Lock()

    def fail_at_two(i: int) -> int:
        with lock:
            started.append(i)
        if i == 2:
            raise ValueError("bad list 2")
        return i

    got = []
    with pytest.raises(ValueError, match="bad list 2"):
        for r in ordered_threads(fail_at_two, range(100), threads=2, window=4):
            got.append(r)
    assert got == [0, 1]
    assert len(started) < 10


def test_blas_runs_on_one_thread_inside_and_is_restored_after() -> None:
    with threadpool_limits(limits=2, user_api="blas"):  # on any machine, a limit to undo
        before = _blas_threads()
        assert before and max(before) == 2  # NumPy's BLAS at least
        inside = list(ordered_threads(lambda _: _blas_threads(), range(4), threads=2))
        assert all(max(seen) == 1 for seen in inside), inside
        assert _blas_threads() == before
        # one thread: a plain loop, BLAS left as it is
        one = list(ordered_threads(lambda _: _blas_threads(), range(2), threads=1))
        assert one == [before] * 2


def test_cpu_threads_is_the_request_or_the_usable_cores() -> None:
    assert cpu_threads(3) == 3
    assert cpu_threads(None) >= 1


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_ivf_search_finds_the_same_candidates_on_one_thread_and_on_several(
    monkeypatch, dtype
) -> None:
    from pairs import search

    monkeypatch.setattr(search, "FLAT_LISTS_MAX", 8)  # two-level lists, probed in blocks
    monkeypatch.setattr(search, "ASSIGN_ELEMS", 32 * 500)
    faiss = import_faiss()
    x = clustered(4000, 32, 400, 0.3, seed=3).astype(dtype)
    plan = SearchPlan("ivf", nlist=32, nprobe=4)
    limits = Thresholds(clip_min=0.93, dino_max=2.0, tau_clip=0.93)
    got = []
    for threads in (1, 2, 3):
        res = find_candidates(
            faiss,
            SearchVectors(x, x, np.ones(len(x), dtype=bool)),
            plan,
            limits,
            SearchOptions(batch=64, recall_sample=200),
            runner=LocalRunner(threads),
        )
        got.append(res)
    c0 = got[0].candidates
    assert len(c0.a) > 500
    for res in got[1:]:
        c = res.candidates
        assert np.array_equal(c.a, c0.a) and np.array_equal(c.b, c0.b)
        assert np.array_equal(c.clip, c0.clip) and np.array_equal(c.dino, c0.dino)
        assert res.recall == got[0].recall


def test_probing_blocks_shrink_with_threads_so_their_memory_stays_bounded(monkeypatch) -> None:
    from pairs import search

    monkeypatch.setattr(search, "ASSIGN_ELEMS", 16 * 400)  # one thread: blocks of 400 tiles
    monkeypatch.setattr(search, "MIN_BLOCK_ROWS", 10)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((1000, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    coarse, cents = x[:6], x[100:130]
    owner = np.arange(30) % 6
    sizes: list[int] = []
    inner = search._probe_block

    def recorded(xb, *args):
        sizes.append(len(xb))
        return inner(xb, *args)

    monkeypatch.setattr(search, "_probe_block", recorded)
    one = search._probe_two_level(x, coarse, cents, owner, 4, threads=1)
    assert max(sizes) == 400
    sizes.clear()
    eight = search._probe_two_level(x, coarse, cents, owner, 4, threads=8)
    assert max(sizes) == 100  # 8 blocks in flight hold as much as 2 whole ones
    assert np.array_equal(one, eight)
