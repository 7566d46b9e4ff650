"""The mine stage end to end on generated workspaces."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from blindpairs import schemas
from blindpairs.workspace import Workspace
from pairs.mine import run_mine
from pairs.params import MineParams
from pairs.selection import pair_id
from tests.pairs.inputs import CLIP, DINO, far_tiles, unit, write_embeddings, write_tiles
from tests.pairs.world import make_world, write_world

TINY = MineParams(encoders="tiny")


def read_pairs(ws: Workspace) -> list[dict]:
    return pq.read_table(ws.pairs).to_pylist()


def test_planted_pairs_found_exactly(ws: Workspace) -> None:
    world = make_world(300, n_blind=6, n_decoys=4)
    write_world(ws, world)
    summary = run_mine(ws, TINY, quiet=True)
    rows = read_pairs(ws)
    assert {r["pair_id"] for r in rows} == world.blind
    assert summary.selected == 6 and summary.status == "done"
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5, 6]
    gaps = [r["gap"] for r in rows]
    assert gaps == sorted(gaps, reverse=True)
    for r in rows:
        assert r["tile_a"] < r["tile_b"] and r["pair_id"] == pair_id(r["tile_b"], r["tile_a"])
        assert r["clip_sim"] >= 0.95 and r["dino_sim"] < 0.6
        assert r["clip_encoder"] == CLIP and r["dino_encoder"] == DINO
    meta = schemas.read_metadata(ws.pairs)
    assert meta["random_weights"] is True
    assert meta["clip_encoder"] == CLIP and meta["dino_encoder"] == DINO
    assert meta["counts"]["selected"] == 6


def test_rank_by_dino_sim_orders_by_lowest_dino(ws: Workspace) -> None:
    write_world(ws, make_world(200, n_blind=5, n_decoys=0, seed=4))
    run_mine(ws, MineParams(encoders="tiny", rank_by="dino_sim"), quiet=True)
    dino = [r["dino_sim"] for r in read_pairs(ws)]
    assert len(dino) == 5 and dino == sorted(dino)


def _edge_world(ws: Workspace) -> dict[str, str]:
    """Pairs of exactly representable similarities around tau_clip=0.75, tau_dino=0.5."""
    step = 2.0**-10
    cases = {  # name -> (clip_sim, dino_sim)
        "clip_at_tau": (0.75, 0.0),
        "clip_below": (0.75 - step, 0.0),
        "dino_at_tau": (0.875, 0.5),
        "dino_below": (0.875, 0.5 - step),
    }
    tiles, ids, clip, dino = [], [], [], []
    names = {}
    for k, (name, (c, d)) in enumerate(cases.items()):
        base_c, base_d = np.zeros(8), np.zeros(8)
        base_c[2 * k] = 1.0
        base_d[2 * k] = 1.0
        other_c, other_d = base_c * c, base_d * d
        other_c[2 * k + 1] = np.sqrt(1 - c * c)
        other_d[2 * k + 1] = np.sqrt(1 - d * d)
        a, b = f"{name}_a", f"{name}_b"
        ids += [a, b]
        clip += [base_c, other_c]
        dino += [base_d, other_d]
        names[name] = pair_id(a, b)
    tiles = [(t, lon, lat) for t, (_, lon, lat) in zip(ids, far_tiles("x", len(ids)), strict=True)]
    write_tiles(ws, "s1", tiles)
    write_embeddings(ws, CLIP, ids, np.array(clip))
    write_embeddings(ws, DINO, ids, np.array(dino))
    return names


def test_threshold_edges(ws: Workspace) -> None:
    names = _edge_world(ws)
    params = MineParams(encoders="tiny", tau_clip=0.75, tau_dino=0.5, cap=4)
    run_mine(ws, params, quiet=True)
    got = {r["pair_id"] for r in read_pairs(ws)}
    # clip_sim >= tau_clip is in; dino_sim < tau_dino is in (equal is out)
    assert names["clip_at_tau"] in got and names["clip_below"] not in got
    assert names["dino_below"] in got and names["dino_at_tau"] not in got


def test_per_tile_cap_and_budget(ws: Workspace) -> None:
    rng = np.random.default_rng(7)
    hub_c, hub_d = unit(rng.standard_normal(32)), unit(rng.standard_normal(16))
    ids = ["hub", "s1", "s2", "s3"]
    clip = [hub_c] + [unit(hub_c + 0.03 * k * rng.standard_normal(32)) for k in (1, 2, 3)]
    dino = [hub_d] + [unit(-hub_d + 0.1 * rng.standard_normal(16)) for _ in range(3)]
    write_tiles(
        ws, "s1", [(t, lon, lat) for t, (_, lon, lat) in zip(ids, far_tiles("x", 4), strict=True)]
    )
    write_embeddings(ws, CLIP, ids, np.array(clip))
    write_embeddings(ws, DINO, ids, np.array(dino))
    counts = {}
    for cap in (1, 2, 3):
        run_mine(ws, MineParams(encoders="tiny", cap=cap, tau_clip=0.9), quiet=True)
        rows = read_pairs(ws)
        use = {t: sum(t in (r["tile_a"], r["tile_b"]) for r in rows) for t in ids}
        assert max(use.values()) <= cap
        counts[cap] = len(rows)
    assert counts[1] < counts[3]
    run_mine(ws, MineParams(encoders="tiny", cap=3, tau_clip=0.9, budget=1, force=True), quiet=True)
    assert len(read_pairs(ws)) == 1


def test_incremental_superset_stable_ids_and_up_to_date(ws: Workspace) -> None:
    first = make_world(200, n_blind=4, n_decoys=2, seed=1, prefix="a")
    write_world(ws, first, scene="s1", prefix="a")
    run_mine(ws, TINY, quiet=True)
    before = {r["pair_id"] for r in read_pairs(ws)}
    second = make_world(150, n_blind=3, n_decoys=1, seed=2, prefix="b")
    write_tiles(ws, "s2", [(t, lon + 5, lat) for t, lon, lat in far_tiles("b", 150)])
    write_embeddings(ws, CLIP, second.ids, second.clip, part="part-1.parquet")
    write_embeddings(ws, DINO, second.ids, second.dino, part="part-1.parquet")
    summary = run_mine(ws, TINY, quiet=True)
    assert summary.searched == 150  # only the new tiles were searched
    rows = read_pairs(ws)
    assert before == first.blind
    assert {r["pair_id"] for r in rows} == first.blind | second.blind
    # nothing was exported: all pairs are ranked together again, best first
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert [r["gap"] for r in rows] == sorted((r["gap"] for r in rows), reverse=True)
    data = ws.pairs.read_bytes(), ws.pair_yield.read_bytes()
    mtime = ws.pairs.stat().st_mtime_ns
    again = run_mine(ws, TINY, quiet=True)
    assert again.status == "up to date"
    assert (ws.pairs.read_bytes(), ws.pair_yield.read_bytes()) == data
    assert ws.pairs.stat().st_mtime_ns == mtime


def test_incremental_finds_pairs_between_old_and_new_tiles(ws: Workspace) -> None:
    rng = np.random.default_rng(3)
    old = make_world(100, n_blind=0, n_decoys=0, seed=3, prefix="a")
    write_world(ws, old, prefix="a")
    run_mine(ws, TINY, quiet=True)
    assert read_pairs(ws) == []
    new_c = unit(old.clip[:2] + 0.01 * rng.standard_normal((2, 64)))
    new_d = unit(-old.dino[:2])
    write_tiles(ws, "s2", [("n0", 50.0, 0.0), ("n1", 51.0, 0.0)])
    write_embeddings(ws, CLIP, ["n0", "n1"], new_c, part="part-1.parquet")
    write_embeddings(ws, DINO, ["n0", "n1"], new_d, part="part-1.parquet")
    assert run_mine(ws, TINY, quiet=True).searched == 2
    assert {r["pair_id"] for r in read_pairs(ws)} == {
        pair_id(old.ids[0], "n0"),
        pair_id(old.ids[1], "n1"),
    }


def test_exported_pairs_are_pinned(ws: Workspace) -> None:
    world = make_world(200, n_blind=4, n_decoys=0, seed=5)
    write_world(ws, world)
    run_mine(ws, TINY, quiet=True)
    rows = read_pairs(ws)
    exported = rows[-1]
    tasks = [
        {
            "data": {
                "pair_id": exported["pair_id"],
                "tile_a": exported["tile_a"],
                "tile_b": exported["tile_b"],
            }
        }
    ]
    ws.label_studio.mkdir(parents=True)
    (ws.label_studio / "tasks.json").write_text(json.dumps(tasks))
    # a much stricter threshold would drop it, and --fresh re-selects from scratch
    strict = MineParams(encoders="tiny", tau_clip=0.9999, force=True)
    run_mine(ws, strict, quiet=True)
    kept = {r["pair_id"]: r for r in read_pairs(ws)}
    assert set(kept) == {exported["pair_id"]}
    assert kept[exported["pair_id"]]["rank"] == exported["rank"]


def test_spatial_exclusion_on_generated_footprints(ws: Workspace) -> None:
    d = 0.01
    layout = {  # tile -> (scene, lon, lat); twins share CLIP vectors, differ in DINOv2
        "touch_a": ("s1", 0.0, 0.0),
        "touch_b": ("s1", d, 0.0),
        "half_a": ("s1", 1.0, 0.0),
        "half_b": ("s1", 1.0 + 1.5 * d, 0.0),
        "far_a": ("s1", 2.0, 0.0),
        "far_b": ("s1", 2.0 + 3 * d, 0.0),
        "date_a": ("s1", 3.0, 0.0),
        "date_b": ("s2", 3.0 + 0.3 * d, 0.0),
        "next_a": ("s1", 4.0, 0.0),
        "next_b": ("s2", 4.0 + d, 0.0),
        "near_a": ("s1", 5.0, 0.0),
        "near_b": ("s2", 5.0 + 1.5 * d, 0.0),
        "other_a": ("s1", 6.0, 0.0),
        "other_b": ("s2", 6.0 + 3 * d, 0.0),
        "distant_a": ("s1", 7.0, 0.0),
        "distant_b": ("s2", 7.0 + 8 * d, 0.0),
    }
    rng = np.random.default_rng(9)
    ids, clip, dino = [], [], []
    for name in sorted({k[:-2] for k in layout}):
        c, v = unit(rng.standard_normal(32)), unit(rng.standard_normal(16))
        ids += [f"{name}_a", f"{name}_b"]
        clip += [c, c]
        dino += [v, unit(-v)]
    for scene in ("s1", "s2"):
        write_tiles(ws, scene, [(t, lon, lat) for t, (s, lon, lat) in layout.items() if s == scene])
    write_embeddings(ws, CLIP, ids, np.array(clip))
    write_embeddings(ws, DINO, ids, np.array(dino))

    def found(**kw) -> set[str]:
        run_mine(ws, MineParams(encoders="tiny", force=True, **kw), quiet=True)
        return {r["tile_a"][:-2] for r in read_pairs(ws)}

    # any scenes: touching and half a tile apart are out, 2 tile widths apart is in;
    # another scene overlapping (the same place at another date) is out too
    assert found() == {"far", "other", "distant"}
    # --allow-same-place lifts only the other-date overlap rule
    assert found(allow_same_place=True) == {"far", "other", "distant", "date"}
    assert found(min_distance_tiles=0.0) == {"far", "half", "near", "other", "distant"}
    assert found(min_distance_m=5000.0) == {"distant"}


def test_yield_grid_counts(ws: Workspace) -> None:
    world = make_world(300, n_blind=6, n_decoys=4)
    write_world(ws, world)
    run_mine(
        ws, MineParams(encoders="tiny", yield_clip=(0.95, 0.99), yield_dino=(0.6, 1.0)), quiet=True
    )
    grid = json.loads(ws.pair_yield.read_text())
    assert grid["tau_clip"] == [0.95, 0.99] and grid["tau_dino"] == [0.6, 1.0]
    assert grid["pairs"][0] == [6, 10]  # decoys pass only the loose DINOv2 threshold
    assert grid["pairs"][1][1] <= grid["pairs"][0][1]
    assert grid["random_weights"] is True


@pytest.mark.parametrize("n", [0, 1])
def test_zero_or_one_tile_gives_empty_result(ws: Workspace, n: int) -> None:
    world = make_world(max(n, 1), 0, 0)
    write_tiles(ws, "s1", far_tiles("t", n))
    write_embeddings(ws, CLIP, world.ids[:n], world.clip[:n])
    write_embeddings(ws, DINO, world.ids[:n], world.dino[:n])
    summary = run_mine(ws, TINY, quiet=True)
    assert summary.status == "empty" and "no pairs" in summary.message
    assert read_pairs(ws) == []
