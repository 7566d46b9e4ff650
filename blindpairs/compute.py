"""Dask: a local cluster by default, or an existing scheduler by address.

:class:`Compute` says where a stage runs; every stage entry point takes one
(``run(workspace, params, compute)``), and its options are config keys
(``scheduler``, ``workers``) of the stages that run on Dask, recorded in config.yaml.
Stages submit plain functions through :func:`ordered_map`, which keeps a
bounded number of tasks in flight and yields results in submission order, so
memory stays bounded and outputs are deterministic on any cluster.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from blindpairs.config import option, optional_positive_int, optional_text
from blindpairs.errors import ConfigError

log = logging.getLogger(__name__)

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
# how to stop using a scheduler, wherever its address came from
UNSET = f"drop --scheduler and the stage's 'scheduler:' config key, and unset ${SCHEDULER_ENV},"


# Dask settings of the local cluster's workers: no statistical profiler (a stack sample of
# every running task every 10 ms on the event loop, for the dashboard's profile page; it
# cost 0.1-0.3 CPU seconds of a 5 s tile stage), and the event loops' responsiveness tick
# every 500 ms instead of 20 (an idle local cluster burnt 0.058 CPU s a second, 0.017 so;
# it only times "event loop was unresponsive" warnings). A cluster given by address keeps
# its own.
LOCAL_WORKER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
}
# While a stage uses the local cluster: tasks carry their inputs on purpose (embed's carry
# the PNG bytes of up to --part-size tiles, 10-30 MB of real tiles), and on one machine
# nothing crosses a network, so Dask's "Sending large graph" warning (10 MB by default) is
# noise there. A cluster given by address keeps it.
LOCAL_CLIENT_CONFIG = {"distributed.admin.large-graph-warning-threshold": "2GiB"}


def scheduler_address(explicit: str | None) -> str | None:
    """The scheduler to use: the option, else ``$DASK_SCHEDULER_ADDRESS``, else local."""
    return explicit or os.environ.get(SCHEDULER_ENV) or None


@contextlib.contextmanager
def dask_client(
    scheduler: str | None = None, workers: int | None = None, processes: bool = False
) -> Iterator[Any]:
    """A ``distributed.Client``: connected to ``scheduler`` or to a new local cluster.

    The local cluster has one worker with ``workers`` threads (default: CPU
    count) unless ``processes`` is true, in which case it has ``workers``
    single-threaded worker processes.
    """
    from distributed import Client, LocalCluster

    # distributed sets its own loggers to INFO when first imported; keep its start-up
    # chatter for -vv (root logger at DEBUG).
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("distributed").setLevel(logging.WARNING)
    address = scheduler_address(scheduler)
    if address:
        log.info("connecting to Dask scheduler at %s", address)
        try:
            client = Client(address, timeout="30s")
        except OSError as exc:
            raise ConfigError(
                f"cannot reach the Dask scheduler at {address} ({exc}); start it, or {UNSET} "
                "to run on this machine"
            ) from None
        with client:
            yield client
        return
    import dask

    n = workers or os.cpu_count() or 1
    if processes:
        cluster_kw = {"n_workers": n, "threads_per_worker": 1, "processes": True}
    else:
        cluster_kw = {"n_workers": 1, "threads_per_worker": n, "processes": False}
    with dask.config.set(LOCAL_WORKER_CONFIG):
        cluster = LocalCluster(dashboard_address=":0", **cluster_kw)
    with cluster, Client(cluster) as client, dask.config.set(LOCAL_CLIENT_CONFIG):
        yield client


def ordered_map(
    client: Any,
    fn: Callable[..., Any],
    items: Iterable[Any],
    *,
    window: int = 8,
    resources: dict[str, float] | None = None,
    **kwargs: Any,
) -> Iterator[Any]:
    """Yield ``fn(item, **kwargs)`` for each item, in order, at most ``window`` in flight.

    A task whose worker dies is retried by Dask on another worker; an
    exception raised by ``fn`` itself is re-raised here.
    """
    pending: deque = deque()
    it = iter(items)
    submit_kw: dict[str, Any] = {"pure": False, "retries": 1}
    if resources:
        submit_kw["resources"] = resources
    for item in it:
        pending.append(client.submit(fn, item, **kwargs, **submit_kw))
        if len(pending) >= window:
            break
    while pending:
        fut = pending.popleft()
        result = fut.result()
        fut.release()
        nxt = next(it, _END)
        if nxt is not _END:
            pending.append(client.submit(fn, nxt, **kwargs, **submit_kw))
        yield result


_END = object()


@dataclass(frozen=True)
class Compute:
    """Where a stage's work runs, and whether it draws progress bars.

    ``scheduler`` and ``workers`` are options (flags and config keys of tile, embed and
    mine); ``quiet`` comes from the command line's ``-q`` only.
    """

    scheduler: str | None = option(
        None,
        "Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: $DASK_SCHEDULER_ADDRESS, "
        "else this machine)",
        parse=optional_text,
        metavar="ADDRESS",
    )
    workers: int | None = option(
        None,
        "threads of the local Dask cluster (default: CPU count)",
        parse=optional_positive_int,
        metavar="N",
    )
    quiet: bool = field(default=False, compare=False)

    @property
    def address(self) -> str | None:
        """The scheduler to use: the option, else ``$DASK_SCHEDULER_ADDRESS``, else None."""
        return scheduler_address(self.scheduler)

    def client(self, processes: bool = False) -> contextlib.AbstractContextManager[Any]:
        """A Dask client for this compute (see :func:`dask_client`)."""
        return dask_client(self.scheduler, self.workers, processes)
