"""tile, embed and mine on a real Dask cluster (separate scheduler and worker processes).

The results must equal a local run's, and a worker killed with SIGKILL in the
middle of embed must neither lose nor duplicate work.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blindpairs import schemas
from blindpairs.atomic import TMP_MARK
from blindpairs.workspace import Workspace
from tests.cluster.processes import BIN, REPO, Cluster, clean_env

pytestmark = pytest.mark.slow

ENCODERS = ("clip-tiny-random", "dinov2-tiny-random")
TILE = ["--size", "256", "--min-valid", "0.8"]
EMBED = ["--encoders", "tiny", "--compute-dtype", "float32", "--part-size", "16"]
CLI_TIMEOUT_S = 120


def blindpairs(*args: str) -> subprocess.CompletedProcess:
    """Run the CLI; fail with its output when it exits non-zero."""
    done = subprocess.run(
        [str(BIN / "blindpairs"), *args],
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )
    assert done.returncode == 0, f"blindpairs {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def pipeline(ws: Path, scenes: Path, *compute: str) -> None:
    blindpairs("tile", str(scenes), "-w", str(ws), "-q", *TILE, *compute)
    blindpairs("embed", "-w", str(ws), "-q", *EMBED, *compute)
    blindpairs("mine", "-w", str(ws), "-q", "--encoders", "tiny", *compute)


def tile_tables(ws: Workspace) -> dict[str, object]:
    return {p.name: pq.read_table(p) for p in ws.tile_parts()}


def vectors_by_tile(ws: Workspace, encoder: str) -> dict[str, np.ndarray]:
    ids, vectors, _ = schemas.read_embeddings(ws.encoder_dir(encoder))
    return dict(zip(ids, vectors, strict=True))


def embedded_ids(ws: Workspace, encoder: str) -> list[str]:
    """Tile ids over every part of an encoder's folder (duplicates kept)."""
    parts = sorted(ws.encoder_dir(encoder).glob("part-*.parquet"))
    return [t for p in parts for t in pq.read_table(p, columns=["tile_id"])["tile_id"].to_pylist()]


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenes")
    blindpairs("example-scenes", str(folder))
    return folder


def test_tile_embed_mine_on_a_cluster_equal_a_local_run(
    cluster: Cluster, scenes: Path, tmp_path: Path
) -> None:
    local, remote = Workspace(tmp_path / "local"), Workspace(tmp_path / "remote")
    pipeline(local.root, scenes)
    pipeline(remote.root, scenes, "--scheduler", cluster.address)

    want, got = tile_tables(local), tile_tables(remote)
    assert len(want) == 5 and sum(t.num_rows for t in want.values()) > 50
    assert got.keys() == want.keys()
    for name, table in want.items():
        assert got[name].equals(table), name
    for encoder in ENCODERS:
        a, b = vectors_by_tile(local, encoder), vectors_by_tile(remote, encoder)
        assert a.keys() == b.keys() and len(a) == sum(t.num_rows for t in want.values())
        # a worker has one BLAS thread, the local run two: the last bit may differ
        assert all(np.allclose(a[t], b[t], rtol=0, atol=1e-6) for t in a), encoder
    pairs, remote_pairs = pq.read_table(local.pairs), pq.read_table(remote.pairs)
    assert pairs.num_rows > 0
    assert remote_pairs.schema.equals(pairs.schema)
    for column in pairs.column_names:
        want_col, got_col = pairs[column].to_pylist(), remote_pairs[column].to_pylist()
        if pairs.schema.field(column).type in (pa.float32(), pa.float64()):
            assert np.allclose(got_col, want_col, rtol=0, atol=1e-6), column
        else:
            assert got_col == want_col, column
    # nothing new: every stage says so, on the cluster too
    again = blindpairs("embed", "-w", str(remote.root), *EMBED, "--scheduler", cluster.address)
    assert "nothing to do" in again.stdout
    assert "up to date" in blindpairs("mine", "-w", str(remote.root), "--encoders", "tiny").stdout


def _wait_for_first_part(folder: Path, proc: subprocess.Popen, timeout_s: float = 90) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(folder.glob("part-*.parquet"))
        if found:
            return len(found)
        time.sleep(0.02)
    raise AssertionError("embed wrote no part before it ended or timed out")


def test_worker_killed_during_embed_loses_and_duplicates_nothing(
    cluster: Cluster, scenes: Path, tmp_path: Path
) -> None:
    ws = Workspace(tmp_path / "ws")
    blindpairs("tile", str(scenes), "-w", str(ws.root), "-q", *TILE)
    n_tiles = sum(pq.read_metadata(p).num_rows for p in ws.tile_parts())
    clip_dir = ws.encoder_dir(ENCODERS[0])
    clip_dir.mkdir(parents=True)
    stale = clip_dir / f"part-x.parquet{TMP_MARK}1-deadbeef"  # left by an earlier killed run
    stale.write_bytes(b"half a part")
    args = ["embed", "-w", str(ws.root), "-q", "--encoders", "tiny", "--part-size", "2"]
    proc = subprocess.Popen(
        [str(BIN / "blindpairs"), *args, "--scheduler", cluster.address],
        cwd=REPO,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        parts_at_kill = _wait_for_first_part(clip_dir, proc)
        cluster.kill_worker("worker-a")
        out, _ = proc.communicate(timeout=CLI_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, f"{out}\n{cluster.logs()}"
    assert parts_at_kill < n_tiles / 2  # killed in the middle, not after the end
    for encoder in ENCODERS:
        ids = embedded_ids(ws, encoder)
        assert len(ids) == n_tiles and len(set(ids)) == n_tiles, encoder  # once each
        assert not [p for p in ws.encoder_dir(encoder).iterdir() if TMP_MARK in p.name]
    assert not stale.exists()
    # the rest ran on the one worker left; a re-run there finds nothing to do
    assert cluster.live_workers() == ["worker-b"]
    rerun = blindpairs(*args, "--scheduler", cluster.address)
    assert "nothing to do" in rerun.stdout
