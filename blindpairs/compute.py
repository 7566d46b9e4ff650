"""Dask: a local cluster by default, or an existing scheduler by address.

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
from typing import Any

from blindpairs.errors import ConfigError

log = logging.getLogger(__name__)

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"


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
                f"cannot reach the Dask scheduler at {address} ({exc}); start it, or drop "
                f"--scheduler and unset ${SCHEDULER_ENV} to run on this machine"
            ) from None
        with client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    if processes:
        cluster_kw = {"n_workers": n, "threads_per_worker": 1, "processes": True}
    else:
        cluster_kw = {"n_workers": 1, "threads_per_worker": n, "processes": False}
    with (
        LocalCluster(dashboard_address=":0", **cluster_kw) as cluster,
        Client(cluster) as client,
    ):
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
