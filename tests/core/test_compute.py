"""The local Dask cluster the stages run on (blindpairs.compute)."""

from __future__ import annotations

import warnings

import dask
import distributed  # noqa: F401 - loads the distributed.* configuration

from blindpairs.compute import dask_client, ordered_map


def _size(payload: bytes) -> int:
    return len(payload)


def test_tasks_carrying_megabytes_run_in_order_without_the_large_graph_warning() -> None:
    """Embed's tasks carry their tiles' PNG bytes; on the local cluster that is by design,
    so Dask's 'Sending large graph' warning must not reach the user (it did, twice a run)."""
    default = dask.config.get("distributed.admin.large-graph-warning-threshold")
    payloads = [bytes(12 << 20), bytes(3), bytes(11 << 20)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with dask_client(None, workers=1) as client:
            sizes = list(ordered_map(client, _size, payloads, window=2))
    assert sizes == [12 << 20, 3, 11 << 20]
    assert not [w for w in caught if "large graph" in str(w.message)]
    # the caller's configuration is back once the cluster is closed
    assert dask.config.get("distributed.admin.large-graph-warning-threshold") == default
