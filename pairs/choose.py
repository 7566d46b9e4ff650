"""The selection step of a run: exported pairs stay pinned, the rest is re-selected by rank."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from blindpairs.workspace import Workspace
from pairs import store
from pairs.inputs import MineInputs
from pairs.outputs import PairRow
from pairs.pairset import Candidates, rowwise_dot
from pairs.params import MineParams
from pairs.selection import Pinned, greedy_select, rank_order

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Selection:
    rows: list[PairRow]
    candidates: int
    new_pairs: int
    pinned: int


def pinned_pairs(
    ws: Workspace, old_rows: dict[str, dict[str, Any]], current: set[str]
) -> list[Pinned]:
    """Pairs exported for annotation that can be kept (both tiles here, or an old row),
    with their rank in the last pairs.parquet (if any)."""
    pinned: list[Pinned] = []
    for pid, (ta, tb) in store.read_pinned(ws).items():
        row = old_rows.get(pid)
        if row is not None:
            ta, tb = row["tile_a"], row["tile_b"]
        if not ta or not tb:
            log.warning(
                "exported pair %s: no tile ids in tasks.json or pairs.parquet; cannot keep it", pid
            )
            continue
        a, b = sorted((ta, tb))
        if row is None and not (a in current and b in current):
            log.warning("exported pair %s: tiles %s, %s are gone; cannot keep it", pid, a, b)
            continue
        pinned.append(Pinned(pid, a, b, row["rank"] if row else None))
    return sorted(pinned, key=lambda f: (f.rank is None, f.rank or 0, f.pair_id))


def _pinned_row(
    f: Pinned, rank: int, inputs: MineInputs, pos: dict[str, int], old: dict[str, Any]
) -> PairRow:
    """A pinned pair's row: current similarities where both tiles are here, else the old row."""
    if f.tile_a in pos and f.tile_b in pos:
        a, b = np.array([pos[f.tile_a]]), np.array([pos[f.tile_b]])
        clip = float(rowwise_dot(inputs.clip.vectors, a, b)[0])
        dino = float(rowwise_dot(inputs.dino.vectors, a, b)[0])
        enc = (inputs.clip.encoder_id, inputs.dino.encoder_id)
        return PairRow(f.pair_id, f.tile_a, f.tile_b, clip, dino, *enc, rank)
    sims = (old["clip_sim"], old["dino_sim"], old["clip_encoder"], old["dino_encoder"])
    return PairRow(f.pair_id, f.tile_a, f.tile_b, *sims, rank)


def _output_rows(
    pinned: list[Pinned],
    taken: list[str],
    inputs: MineInputs,
    cand_by_id: dict[str, tuple],
    old_rows: dict[str, dict[str, Any]],
) -> list[PairRow]:
    """Pinned pairs at their rank (new ones after them), then the taken pairs in rank order."""
    clip_id, dino_id = inputs.clip.encoder_id, inputs.dino.encoder_id
    pos = {t: i for i, t in enumerate(inputs.tile_ids)}
    rows: list[PairRow] = []
    next_rank = max((f.rank for f in pinned if f.rank is not None), default=0) + 1
    for f in pinned:
        rank = f.rank
        if rank is None:
            rank, next_rank = next_rank, next_rank + 1
        rows.append(_pinned_row(f, rank, inputs, pos, old_rows.get(f.pair_id, {})))
    for pid in taken:
        ta, tb, clip, dino = cand_by_id[pid]
        rows.append(PairRow(pid, ta, tb, clip, dino, clip_id, dino_id, next_rank))
        next_rank += 1
    return rows


def select_pairs(
    ws: Workspace,
    inputs: MineInputs,
    valid: Candidates,
    pids: list[str],
    params: MineParams,
    prev: pa.Table | None,
) -> Selection:
    """Rank the pairs passing the thresholds and select them under the cap and budget.

    Pairs exported for annotation keep their id and rank; every other pair is
    selected again each run, so a better new pair takes the place of a worse
    earlier one (pair ids are content hashes and stay; their ranks may change).
    """
    ids = inputs.tile_ids
    main = np.flatnonzero(
        (valid.clip >= np.float32(params.tau_clip)) & (valid.dino < np.float32(params.tau_dino))
    )
    main = main[
        rank_order(valid.clip[main], valid.dino[main], [pids[i] for i in main], params.rank_by)
    ]
    cand_by_id = {
        pids[i]: (ids[valid.a[i]], ids[valid.b[i]], float(valid.clip[i]), float(valid.dino[i]))
        for i in main
    }
    old_rows = {r["pair_id"]: r for r in prev.to_pylist()} if prev is not None else {}
    pinned = pinned_pairs(ws, old_rows, set(ids))
    ordered = [(p, v[0], v[1]) for p, v in cand_by_id.items()]
    taken = greedy_select(ordered, pinned, params.cap, params.budget)
    rows = _output_rows(pinned, taken, inputs, cand_by_id, old_rows)
    new = sum(pid not in old_rows for pid in taken)
    return Selection(rows, len(main), new, len(pinned))
