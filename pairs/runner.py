"""Where the search units run: in this process (the default) or on a Dask cluster.

:class:`LocalRunner` runs the units in this process: exact units one after
another (FAISS uses this machine's threads, or ``--workers`` of them), IVF units
side by side on that many threads with one BLAS thread each (:mod:`pairs.parallel`).
:class:`DaskRunner` scatters the search data once to every worker (``broadcast``),
submits one task per unit through :func:`blindpairs.compute.ordered_map` (bounded
in flight, results in order; a task whose worker dies is re-run elsewhere) and gives each task one
FAISS thread when the cluster has more than one worker thread.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from blindpairs import compute
from blindpairs.errors import BlindpairsError
from pairs.faiss_import import gpu_count, import_faiss
from pairs.parallel import cpu_threads, ordered_threads
from pairs.units import SearchData, Thresholds, Unit, UnitResult, release_indexes, run_unit

log = logging.getLogger(__name__)


class Runner(Protocol):
    """Runs search units; knows how many GPUs the search may use.

    ``threads``: how many threads the work done in this process may use (training
    and probing the IVF lists; None: all its cores).
    """

    threads: int | None

    def gpus(self) -> int: ...

    def run(
        self, units: Iterable[Unit], data: SearchData, limits: Thresholds
    ) -> Iterator[UnitResult]: ...


RunnerFactory = Callable[[], contextlib.AbstractContextManager[Runner]]


class LocalRunner:
    """Run the units in this process; results in order."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads

    def gpus(self) -> int:
        return gpu_count(import_faiss())

    def run(
        self, units: Iterable[Unit], data: SearchData, limits: Thresholds
    ) -> Iterator[UnitResult]:
        threads = cpu_threads(self.threads)

        def one(unit: Unit) -> UnitResult:
            return run_unit(unit, data=data, limits=limits, threads=self.threads)

        first, rest = _peek(units)
        if first is None:
            return
        try:
            if first.side_by_side:
                yield from ordered_threads(one, rest, threads)
            else:
                yield from map(one, rest)
        finally:
            release_indexes()


def _peek(units: Iterable[Unit]) -> tuple[Unit | None, Iterator[Unit]]:
    """The first unit (None: no units) and all the units (the first included)."""
    it = iter(units)
    first = next(it, None)
    return first, itertools.chain([first], it) if first is not None else it


def _worker_gpus() -> int:
    return gpu_count(import_faiss())


class DaskRunner:
    """Run the units as tasks on a Dask cluster (``client``)."""

    threads = None  # the client process probes the IVF lists on all its cores

    def __init__(self, client: Any) -> None:
        self.client = client

    def _threads(self) -> int:
        return sum(self.client.nthreads().values())

    def gpus(self) -> int:
        """GPUs FAISS sees on the workers (the fewest of any worker: tasks go anywhere)."""
        counts = self.client.run(_worker_gpus)
        return min(counts.values(), default=0)

    def run(
        self, units: Iterable[Unit], data: SearchData, limits: Thresholds
    ) -> Iterator[UnitResult]:
        threads = self._threads()
        shared = self.client.scatter(data, broadcast=True, hash=False)
        try:
            yield from compute.ordered_map(
                self.client,
                run_unit,
                units,
                window=max(2, 2 * threads),
                data=shared,
                limits=limits,
                threads=1 if threads > 1 else None,
            )
        finally:
            shared.release()
            with contextlib.suppress(Exception):
                self.client.run(release_indexes)


@contextlib.contextmanager
def local_runner(threads: int | None = None) -> Iterator[Runner]:
    """A :class:`LocalRunner`; FAISS's thread count is restored afterwards."""
    faiss = import_faiss()
    before = faiss.omp_get_max_threads()
    try:
        yield LocalRunner(threads)
    finally:
        faiss.omp_set_num_threads(before)


@contextlib.contextmanager
def dask_runner(scheduler: str | None, workers: int | None = None) -> Iterator[Runner]:
    """A :class:`DaskRunner` on the cluster at ``scheduler`` (or a new local one)."""
    with contextlib.ExitStack() as stack:
        try:
            client = stack.enter_context(compute.dask_client(scheduler, workers))
        except OSError as exc:
            raise BlindpairsError(
                f"cannot reach the Dask scheduler at {scheduler} ({exc}); start it, or "
                f"{compute.UNSET} to search in this process"
            ) from None
        log.info("mine: searching on Dask (%d worker threads)", sum(client.nthreads().values()))
        yield DaskRunner(client)


def runner_factory(scheduler: str | None, workers: int | None) -> RunnerFactory:
    """Dask when a scheduler address is given (flag or $DASK_SCHEDULER_ADDRESS), else local."""
    address = compute.scheduler_address(scheduler)
    if address:
        return lambda: dask_runner(address)
    return lambda: local_runner(workers)
