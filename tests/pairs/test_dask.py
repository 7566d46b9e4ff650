"""The mine stage's search on Dask gives the same files as the in-process search."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from blindpairs.workspace import Workspace
from pairs.mine import run_mine
from pairs.params import MineParams
from pairs.runner import DaskRunner, Runner
from tests.pairs.inputs import CLIP, DINO, far_tiles, unit, write_embeddings, write_tiles


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    from blindpairs.compute import dask_client

    with dask_client(None, workers=2) as c:
        yield c


def clustered_world(ws: Workspace, n: int, start: int = 0, scene: str = "s1") -> None:
    """Far-apart tiles whose CLIP vectors crowd into a few clusters (many candidate pairs)."""
    rng = np.random.default_rng(start + 7)
    centres = unit(np.random.default_rng(99).standard_normal((6, 32)))
    clip = unit(centres[rng.integers(0, 6, n)] + 0.03 * rng.standard_normal((n, 32)))
    dino = unit(rng.standard_normal((n, 16)))
    tiles = far_tiles("t", n, start)
    write_tiles(ws, scene, tiles)
    ids = [t for t, _, _ in tiles]
    write_embeddings(ws, CLIP, ids, clip, part=f"part-{scene}.parquet")
    write_embeddings(ws, DINO, ids, dino, part=f"part-{scene}.parquet")


def outputs(ws: Workspace) -> dict[str, object]:
    cands = pq.read_table(ws.candidates).sort_by([("tile_a", "ascending"), ("tile_b", "ascending")])
    return {
        "pairs": pq.read_table(ws.pairs).to_pylist(),
        "yield": json.loads(ws.pair_yield.read_text()),
        "candidates": cands.to_pylist(),
    }


def on(client: object):  # noqa: ANN201
    @contextlib.contextmanager
    def factory() -> Iterator[Runner]:
        yield DaskRunner(client)

    return factory


PLANS = {
    "exact": MineParams(encoders="tiny", batch=64, tau_clip=0.97, tau_dino=0.3),
    "ivf": MineParams(
        encoders="tiny", index="ivf", nlist=8, nprobe=2, recall_sample=100, tau_clip=0.97, batch=64
    ),
}


@pytest.mark.parametrize("plan", sorted(PLANS))
def test_dask_search_matches_local_including_incremental(
    plan: str, client: object, tmp_path: Path
) -> None:
    params = PLANS[plan]
    local, remote = Workspace(tmp_path / "local"), Workspace(tmp_path / "remote")
    clustered_world(local, 400)
    shutil.copytree(local.root, remote.root)
    first = run_mine(local, params, quiet=True)
    from distributed import get_task_stream

    with get_task_stream(client) as stream:
        run_mine(remote, params, quiet=True, runners=on(client))
    assert any(t["key"].startswith("run_unit") for t in stream.data)  # it ran on Dask
    assert first.candidates > 20 and first.selected > 5  # a search with something to find
    assert outputs(remote) == outputs(local)
    # new tiles: only they are searched, against all, on either runner
    for ws in (local, remote):
        clustered_world(ws, 150, start=400, scene="s2")
    more = run_mine(local, params, quiet=True)
    again = run_mine(remote, params, quiet=True, runners=on(client))
    assert more.searched == again.searched == 150
    assert outputs(remote) == outputs(local)


def test_nothing_new_opens_no_runner(ws: Workspace, client: object) -> None:
    clustered_world(ws, 50)
    run_mine(ws, PLANS["exact"], quiet=True)
    opened = []

    @contextlib.contextmanager
    def factory() -> Iterator[Runner]:
        opened.append(1)
        yield DaskRunner(client)

    summary = run_mine(
        ws, MineParams(encoders="tiny", batch=64, tau_clip=0.97, cap=2), runners=factory
    )
    assert summary.status == "done" and summary.searched == 0 and not opened


def test_unreachable_scheduler_fails_with_what_to_change(
    ws: Workspace, monkeypatch, capsys
) -> None:
    from blindpairs import compute
    from blindpairs.cli import main

    @contextlib.contextmanager
    def refused(scheduler: str | None, workers: int | None = None) -> Iterator[object]:
        raise OSError(f"Timed out trying to connect to {scheduler}")
        yield

    monkeypatch.setattr(compute, "dask_client", refused)
    clustered_world(ws, 50)
    code = main(
        ["mine", "-w", str(ws.root), "-q", "--encoders", "tiny", "--scheduler", "tcp://127.0.0.1:9"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert "--scheduler" in err and not ws.pairs.exists()
