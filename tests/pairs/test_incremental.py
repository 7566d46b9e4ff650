"""Incremental runs: re-embedded tiles are searched again; no-op re-runs change no file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from blindpairs import schemas
from blindpairs.workspace import Workspace
from pairs import inputs as inputs_mod
from pairs import store
from pairs.mine import run_mine
from pairs.params import MineParams
from pairs.selection import pair_id
from tests.pairs.inputs import CLIP, DINO, unit, write_embeddings, write_tiles
from tests.pairs.world import World, make_world, write_world

TINY = MineParams(encoders="tiny")
FRESH = MineParams(encoders="tiny", force=True)


def swap_blind_and_decoys(world: World, n_blind: int, n_decoys: int) -> np.ndarray:
    """DINOv2 vectors under which the planted decoys are CLIP-blind and the blind pairs not."""
    rng = np.random.default_rng(11)
    dino = world.dino.copy()
    for k in range(n_blind + n_decoys):
        i, j = 2 * k, 2 * k + 1
        if k < n_blind:
            dino[j] = unit(dino[i] + 0.05 * rng.standard_normal(dino.shape[1]))
        else:
            dino[j] = unit(-dino[i] + 0.3 * rng.standard_normal(dino.shape[1]))
    return dino


def outputs(ws: Workspace) -> dict[str, object]:
    """What a run wrote, candidates in a fixed order."""
    cands = pq.read_table(ws.candidates).sort_by([("tile_a", "ascending"), ("tile_b", "ascending")])
    return {
        "pairs": pq.read_table(ws.pairs).to_pylist(),
        "meta": schemas.read_metadata(ws.pairs),
        "yield": ws.pair_yield.read_text(),
        "candidates": cands.to_pylist(),
    }


def mine_both_ways(ws: Workspace, tmp_path: Path) -> tuple[dict, dict, int]:
    """Mine ``ws`` incrementally and a copy of it with --fresh; return both outputs."""
    copy = Workspace(tmp_path / "copy")
    shutil.copytree(ws.root, copy.root)
    searched = run_mine(ws, TINY, quiet=True).searched
    run_mine(copy, FRESH, quiet=True)
    return outputs(ws), outputs(copy), searched


def test_reembedding_with_other_preprocessing_equals_a_fresh_run(
    ws: Workspace, tmp_path: Path
) -> None:
    world = make_world(200, n_blind=3, n_decoys=3, seed=6)
    write_world(ws, world)
    run_mine(ws, TINY, quiet=True)
    assert {r["pair_id"] for r in pq.read_table(ws.pairs).to_pylist()} == world.blind
    # embed --replace with another pooling: same encoder id and weights tag, new vectors
    new_dino = swap_blind_and_decoys(world, 3, 3)
    write_embeddings(ws, DINO, world.ids, new_dino, preprocessing="test, mean pooling")
    incremental, fresh, searched = mine_both_ways(ws, tmp_path)
    assert incremental == fresh
    assert {r["pair_id"] for r in incremental["pairs"]} == world.decoys
    assert searched == 200


@pytest.mark.parametrize("hold_max", [10**9, 0], ids=["held", "streamed"])
def test_reembedded_part_is_searched_again_with_the_same_identity(
    ws: Workspace, tmp_path: Path, monkeypatch, hold_max: int
) -> None:
    """Streamed: the DINOv2 rows are not read at load; the changed ones are still found."""
    monkeypatch.setattr(inputs_mod, "HOLD_FLOAT32_MAX", hold_max)
    first = make_world(100, n_blind=2, n_decoys=0, seed=1, prefix="a")
    second = make_world(80, n_blind=2, n_decoys=2, seed=2, prefix="b")
    write_world(ws, first, scene="s1", prefix="a")
    write_tiles(ws, "s2", [(t, 30.0 + i * 0.1, 10.0) for i, t in enumerate(second.ids)])
    write_embeddings(ws, CLIP, second.ids, second.clip, part="part-1.parquet")
    write_embeddings(ws, DINO, second.ids, second.dino, part="part-1.parquet")
    run_mine(ws, TINY, quiet=True)
    # one part re-embedded with identical metadata; some of its vectors changed
    new_dino = swap_blind_and_decoys(second, 2, 2)
    write_embeddings(ws, DINO, second.ids, new_dino, part="part-1.parquet")
    incremental, fresh, searched = mine_both_ways(ws, tmp_path)
    assert incremental == fresh
    assert searched == int((new_dino != second.dino).any(axis=1).sum()) == 4
    assert {r["pair_id"] for r in incremental["pairs"]} == first.blind | second.decoys


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def pin_all(ws: Workspace) -> None:
    """Write tasks.json as the export does, for every pair in pairs.parquet."""
    tasks = [
        {"data": {k: r[k] for k in ("pair_id", "tile_a", "tile_b")}}
        for r in pq.read_table(ws.pairs).to_pylist()
    ]
    ws.label_studio.mkdir(parents=True, exist_ok=True)
    (ws.label_studio / "tasks.json").write_text(json.dumps(tasks))


def test_export_then_no_op_rebuilds_change_no_file(ws: Workspace) -> None:
    write_world(ws, make_world(150, n_blind=4, n_decoys=1, seed=3))
    run_mine(ws, TINY, quiet=True)
    before = snapshot(ws.pairs_dir)
    pin_all(ws)
    after_export = run_mine(ws, TINY, quiet=True)
    assert snapshot(ws.pairs_dir) == before
    assert after_export.status == "up to date" and after_export.selected == 4
    again = run_mine(ws, TINY, quiet=True)
    assert again.status == "up to date"
    assert snapshot(ws.pairs_dir) == before


def test_rerun_on_unchanged_substance_leaves_outputs_byte_identical(ws: Workspace) -> None:
    world = make_world(150, n_blind=4, n_decoys=1, seed=3)
    write_world(ws, world)
    run_mine(ws, TINY, quiet=True)
    pin_all(ws)
    outputs_ = (ws.pairs, ws.pair_yield, store.left_out_path(ws))
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in outputs_}
    # the same tiles written again (new mtime), then a --fresh run: both mine again
    write_world(ws, world)
    assert run_mine(ws, TINY, quiet=True).status == "done"
    assert run_mine(ws, FRESH, quiet=True).status == "done"
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in outputs_} == before


def test_exported_pair_missing_from_pairs_file_triggers_a_run(ws: Workspace) -> None:
    world = make_world(100, n_blind=2, n_decoys=0, seed=4)
    write_world(ws, world)
    strict = MineParams(encoders="tiny", tau_clip=0.99999)
    run_mine(ws, strict, quiet=True)
    assert pq.read_table(ws.pairs).num_rows == 0
    pid = pair_id(world.ids[0], world.ids[1])  # the first planted pair
    assert pid in world.blind
    tasks = [{"data": {"pair_id": pid, "tile_a": world.ids[0], "tile_b": world.ids[1]}}]
    ws.label_studio.mkdir(parents=True)
    (ws.label_studio / "tasks.json").write_text(json.dumps(tasks))
    summary = run_mine(ws, strict, quiet=True)
    assert summary.status == "done" and summary.pinned == 1
    assert [r["pair_id"] for r in pq.read_table(ws.pairs).to_pylist()] == [pid]


def test_candidates_are_a_public_file_and_an_old_cache_name_is_kept(ws: Workspace) -> None:
    write_world(ws, make_world(120, n_blind=3, n_decoys=1, seed=4))
    run_mine(ws, TINY, quiet=True)
    table = pq.read_table(ws.candidates)
    assert table.schema.names == schemas.CANDIDATES_SCHEMA.names
    assert table.num_rows >= 3
    # a workspace mined before the file was public: its cache is reused, not searched again
    ws.candidates.replace(ws.pairs_dir / store.LEGACY_CANDIDATES)
    assert run_mine(ws, TINY, quiet=True).status == "up to date"
    summary = run_mine(ws, MineParams(encoders="tiny", cap=2), quiet=True)
    assert summary.searched == 0
    assert ws.candidates.is_file() and not (ws.pairs_dir / store.LEGACY_CANDIDATES).exists()
