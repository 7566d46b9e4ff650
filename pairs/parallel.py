"""Threads for the NumPy work of the IVF search: one BLAS thread each, results in order.

The IVF pieces (probing the lists, scoring a list) are matrix products between
gathers, widenings, top-k and ``nonzero``, all of which release the GIL but run
on one core. With BLAS on every core and the pieces one after another, the other
cores idle through the non-BLAS half; with one BLAS thread per worker thread and
the pieces side by side, every core works all the time (1M tiles, 2 cores:
scoring a quarter of the lists 9.8-11.3 s -> 6.2-7.8 s, probing 8 blocks 5.6-7.1 s
-> 3.8-4.3 s; docs/performance.md). The BLAS limit is process-wide (threadpoolctl),
so it is set once around the whole parallel section, never per piece.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def cpu_threads(requested: int | None = None) -> int:
    """``requested``, or the cores this process may run on."""
    if requested:
        return max(1, int(requested))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS libraries of this process (NumPy's, FAISS's) on one thread each; restored after."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _blas_thread_limit() -> None:
    """One BLAS thread in this (new) thread too: an OpenMP BLAS (FAISS's OpenBLAS) keeps
    its thread count per thread, so the limit set in the calling thread does not reach it."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def ordered_threads(
    fn: Callable[[T], R], items: Iterable[T], threads: int, window: int | None = None
) -> Iterator[R]:
    """Yield ``fn(item)`` for each item, in order, on ``threads`` threads with one BLAS
    thread each, at most ``window`` (default 2 x threads) in flight.

    One thread: a plain loop, BLAS left as it is. An exception raised by ``fn``
    is re-raised here and the items not started are dropped; so are they when
    the caller stops iterating.
    """
    if threads <= 1:
        yield from map(fn, items)
        return
    window = max(threads, window or 2 * threads)
    pending: deque[Future[R]] = deque()
    it = iter(items)
    with one_blas_thread():
        pool = ThreadPoolExecutor(threads, "blindpairs-ivf", initializer=_blas_thread_limit)
        try:
            for item in it:
                pending.append(pool.submit(fn, item))
                if len(pending) >= window:
                    break
            while pending:
                result = pending.popleft().result()
                nxt: Any = next(it, _END)
                if nxt is not _END:
                    pending.append(pool.submit(fn, nxt))
                yield result
        finally:
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True)


_END = object()
