"""A real Dask cluster on 127.0.0.1: ``dask scheduler`` and ``dask worker`` processes.

Every process is started by a fixture and terminated by it, also when a test
fails. Workers run without a nanny, so a worker killed with SIGKILL stays dead
(a nanny would restart it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.processes import Cluster, start_scheduler, stop


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A scheduler and two single-threaded workers on 127.0.0.1; all stopped afterwards."""
    folder = tmp_path / "cluster"
    folder.mkdir()
    proc, sfile, address = start_scheduler(folder)
    c = Cluster(address, sfile, folder, proc)
    try:
        for name in ("worker-a", "worker-b"):
            c.start_worker(name)
        c.wait_for_workers(2)
        yield c
    finally:
        for worker in c.workers.values():
            stop(worker)
        stop(proc)
