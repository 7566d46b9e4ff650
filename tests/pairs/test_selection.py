"""Selection across runs: exported pairs are pinned, everything else competes again."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq

from blindpairs.workspace import Workspace
from pairs.mine import run_mine
from pairs.params import MineParams
from pairs.selection import Pinned, greedy_select, pair_id
from tests.pairs.inputs import CLIP, DINO, unit, write_embeddings, write_tiles


def plant(ws: Workspace, scene: str, dino_sims: dict[str, float], lon0: float, seed: int) -> None:
    """One tile part and its embeddings: a pair ``<name>_a``/``<name>_b`` per entry, CLIP
    cosine 1 and DINOv2 cosine as given, each pair unrelated to the others."""
    rng = np.random.default_rng(seed)
    ids, clip, dino = [], [], []
    for name, d in dino_sims.items():
        c = unit(rng.standard_normal(64))
        base, other = unit(rng.standard_normal(32)), rng.standard_normal(32)
        orth = unit(other - (other @ base) * base)
        ids += [f"{name}_a", f"{name}_b"]
        clip += [c, c]
        dino += [base, unit(d * base + np.sqrt(1 - d * d) * orth)]
    write_tiles(ws, scene, [(t, lon0 + 0.1 * i, 20.0) for i, t in enumerate(ids)])
    write_embeddings(ws, CLIP, ids, np.array(clip), part=f"part-{scene}.parquet")
    write_embeddings(ws, DINO, ids, np.array(dino), part=f"part-{scene}.parquet")


def ranked(ws: Workspace) -> list[tuple[str, int]]:
    return [(r["tile_a"][:-2], r["rank"]) for r in pq.read_table(ws.pairs).to_pylist()]


def export(ws: Workspace, *names: str) -> None:
    tasks = [
        {"data": {"pair_id": pair_id(f"{n}_a", f"{n}_b"), "tile_a": f"{n}_a", "tile_b": f"{n}_b"}}
        for n in names
    ]
    ws.label_studio.mkdir(parents=True, exist_ok=True)
    (ws.label_studio / "tasks.json").write_text(json.dumps(tasks))


def test_better_new_pairs_take_the_budget_from_unexported_earlier_picks(ws: Workspace) -> None:
    params = MineParams(encoders="tiny", budget=3)
    plant(ws, "s1", {"old1": 0.3, "old2": 0.4, "old3": 0.5}, lon0=0.0, seed=1)
    run_mine(ws, params, quiet=True)
    assert ranked(ws) == [("old1", 1), ("old2", 2), ("old3", 3)]
    export(ws, "old2")  # annotators have old2; old1 and old3 were never exported
    plant(ws, "s2", {"new1": -0.5, "new2": 0.0}, lon0=10.0, seed=2)
    summary = run_mine(ws, params, quiet=True)
    # old2 keeps id and rank; the two best others fill the budget, ranked after it
    assert ranked(ws) == [("old2", 2), ("new1", 3), ("new2", 4)]
    assert summary.pinned == 1 and summary.new_pairs == 2


def test_exported_pairs_stay_beyond_cap_and_budget() -> None:
    pinned = [Pinned("p1", "x", "y", 1), Pinned("p2", "x", "z", 2)]
    ordered = [("q1", "x", "w"), ("q2", "u", "v"), ("q3", "s", "t")]
    # x is over the cap already: q1 cannot join; the budget counts the pinned pairs
    assert greedy_select(ordered, pinned, cap=1, budget=3) == ["q2"]
    assert greedy_select(ordered, pinned, cap=1, budget=1) == []
    assert greedy_select(ordered, [], cap=1, budget=None) == ["q1", "q2", "q3"]
