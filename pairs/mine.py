"""Run the mine stage: inputs -> candidates (cached, incremental) -> selection -> files."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from blindpairs import atomic, lock
from blindpairs.compute import Compute
from blindpairs.workspace import Workspace
from pairs import store
from pairs.choose import select_pairs
from pairs.faiss_import import import_faiss
from pairs.incremental import search_new
from pairs.inputs import MineInputs, load_inputs
from pairs.outputs import PairRow, pairs_table, yield_grid
from pairs.pairset import Candidates
from pairs.params import MineParams
from pairs.runner import RunnerFactory, runner_factory
from pairs.search_plan import SearchPlan
from pairs.selection import pair_id
from pairs.spatial import Footprints, conflicts, load_footprints

log = logging.getLogger(__name__)


@dataclass
class MineSummary:
    """What a run did; printed by the CLI."""

    status: str  # "up to date", "done" or "empty"
    tiles: int = 0
    searched: int = 0
    left_out: dict[str, str] = field(default_factory=dict)
    candidates: int = 0
    excluded_same_place: int = 0
    selected: int = 0
    new_pairs: int = 0
    pinned: int = 0
    plan: dict[str, Any] = field(default_factory=dict)
    recall: float | None = None
    message: str = ""


def _drop_bad_footprints(inputs: MineInputs) -> tuple[MineInputs, Footprints]:
    fp, ok = load_footprints(inputs.tiles)
    if ok.all():
        return inputs, fp
    reason = "footprint geometry missing, empty or not a polygon"
    return inputs.drop(~ok, reason), fp.take(ok)


def _other_places(
    cands: Candidates, ids: list[str], fp: Any, params: MineParams
) -> tuple[Candidates, list[str], np.ndarray]:
    """The candidates whose tiles are not the same place, their pair ids, and the mask of
    those left out as the same place."""
    same = conflicts(
        fp,
        cands.a,
        cands.b,
        params.min_distance_tiles,
        params.min_distance_m,
        params.allow_same_place,
    )
    valid = cands.take(~same)
    pids = [
        pair_id(ids[a], ids[b]) for a, b in zip(valid.a.tolist(), valid.b.tolist(), strict=True)
    ]
    return valid, pids, same


@lock.locked("mine")
def run_mine(
    ws: Workspace,
    params: MineParams,
    quiet: bool = False,
    runners: RunnerFactory | None = None,
) -> MineSummary:
    """Mine CLIP-blind pairs in workspace ``ws``; write pairs.parquet and yield.json.

    ``runners`` opens where the search runs (default: this process; see
    :func:`pairs.runner.runner_factory` for a Dask cluster).
    """
    dirs = [ws.encoder_dir(params.clip_id), ws.encoder_dir(params.dino_id)]
    settings = params.settings()
    fingerprint = store.fingerprint(ws, settings, dirs)
    prev, prev_meta = store.read_previous(ws)
    done = store.is_up_to_date(ws, fingerprint) and store.pins_satisfied(ws, prev)
    if done and not params.force:
        selected = prev.num_rows if prev is not None else 0
        return MineSummary("up to date", selected=selected, message="nothing new since last run")
    faiss = import_faiss()  # only now: a run with nothing to do needs no FAISS
    atomic.clean_stale_temporaries(ws.pairs_dir)
    inputs, fp = _drop_bad_footprints(load_inputs(ws, params.clip_id, params.dino_id))
    n = len(inputs.tile_ids)
    found = search_new(ws, faiss, inputs, params, quiet, runners)
    valid, pids, same = _other_places(found.candidates, inputs.tile_ids, fp, params)
    grid = yield_grid(valid, pids, params)
    chosen = select_pairs(ws, inputs, valid, pids, params, prev)
    summary = MineSummary(
        "done" if n >= 2 else "empty",
        tiles=n,
        searched=found.searched,
        left_out=inputs.left_out,
        candidates=chosen.candidates,
        excluded_same_place=int(same.sum()),
        selected=len(chosen.rows),
        new_pairs=chosen.new_pairs,
        pinned=chosen.pinned,
        plan=found.plan.describe(),
        recall=found.recall if found.searched else prev_meta.get("recall"),
    )
    if n < 2:
        summary.message = f"{n} tile(s) with both embeddings: no pairs to mine"
    _write(ws, settings, inputs, chosen.rows, grid, summary, found.plan)
    store.write_state(ws, fingerprint)
    return summary


def run(workspace: Workspace | str | Path, params: MineParams, compute: Compute) -> MineSummary:
    """The mine stage: search in this process (FAISS with ``compute.workers`` threads), or
    on the Dask cluster at ``compute.scheduler`` (or ``$DASK_SCHEDULER_ADDRESS``)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    runners = runner_factory(compute.scheduler, compute.workers)
    return run_mine(ws, params, quiet=compute.quiet, runners=runners)


def _write(
    ws: Workspace,
    settings: dict[str, Any],
    inputs: MineInputs,
    rows: list[PairRow],
    grid: dict[str, Any],
    s: MineSummary,
    plan: SearchPlan,
) -> None:
    """Write the outputs: only what the run found, nothing about this particular run
    (no timings, no input fingerprint, no new/pinned counts), so a re-run on inputs
    that changed in no substance leaves every file byte-identical."""
    counts = {
        "tiles": s.tiles,
        "left_out": len(s.left_out),
        "candidates": s.candidates,
        "excluded_same_place": s.excluded_same_place,
        "selected": s.selected,
    }
    tau_clip, tau_dino = settings["tau_clip"], settings["tau_dino"]
    meta = {
        "clip_encoder": inputs.clip.encoder_id,
        "clip_weights": inputs.clip.weights,
        "dino_encoder": inputs.dino.encoder_id,
        "dino_weights": inputs.dino.weights,
        "random_weights": inputs.clip.random_weights or inputs.dino.random_weights,
        "tau_clip": tau_clip,
        "tau_dino": tau_dino,
        "counts": counts,
        "search": plan.describe(),
        "recall": s.recall,
        "params": settings,
    }
    grid = {
        **grid,
        "clip_encoder": meta["clip_encoder"],
        "dino_encoder": meta["dino_encoder"],
        "random_weights": meta["random_weights"],
        "tiles": s.tiles,
    }
    left = [{"tile_id": t, "reason": r} for t, r in sorted(s.left_out.items())]
    atomic.write_json(store.left_out_path(ws), left)
    atomic.write_json(ws.pair_yield, grid)
    store.write_parquet(ws.pairs, pairs_table(rows, tau_clip, tau_dino, meta))
