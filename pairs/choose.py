"""The selection step of a run: pinned and earlier pairs stay, new ones fill the cap."""

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
from pairs.selection import Fixed, greedy_select, rank_order

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Selection:
    rows: list[PairRow]
    candidates: int
    new_pairs: int
    pinned: int


def _fixed_pairs(
    ws: Workspace, prev: pa.Table | None, fresh: bool, eligible: set[str]
) -> tuple[list[Fixed], dict[str, dict[str, Any]]]:
    """Pinned (exported) pairs, and earlier choices that still pass; with old rows by id."""
    old_rows = {r["pair_id"]: r for r in prev.to_pylist()} if prev is not None else {}
    pinned = store.read_pinned(ws)
    fixed: dict[str, Fixed] = {}
    for pid, (ta, tb) in pinned.items():
        row = old_rows.get(pid)
        if row is not None:
            ta, tb = row["tile_a"], row["tile_b"]
        if not ta or not tb:
            log.warning(
                "exported pair %s: no tile ids in tasks.json or pairs.parquet; cannot keep it", pid
            )
            continue
        a, b = sorted((ta, tb))
        fixed[pid] = Fixed(pid, a, b, row["rank"] if row else None, True)
    if not fresh:
        for pid, row in old_rows.items():
            if pid not in fixed and pid in eligible:
                fixed[pid] = Fixed(pid, row["tile_a"], row["tile_b"], row["rank"], False)
    return list(fixed.values()), old_rows


def _output_rows(
    kept: list[Fixed],
    taken: list[str],
    inputs: MineInputs,
    cand_by_id: dict[str, tuple],
    old_rows: dict[str, dict[str, Any]],
) -> list[PairRow]:
    """Rows for kept pairs (current similarities where the tiles are here) and new ones."""
    clip_id, dino_id = inputs.clip.encoder_id, inputs.dino.encoder_id
    pos = {t: i for i, t in enumerate(inputs.tile_ids)}
    rows: list[PairRow] = []
    next_rank = max((f.rank for f in kept if f.rank is not None), default=0) + 1
    for f in kept:
        rank = f.rank
        if rank is None:
            rank, next_rank = next_rank, next_rank + 1
        if f.tile_a in pos and f.tile_b in pos:
            a, b = np.array([pos[f.tile_a]]), np.array([pos[f.tile_b]])
            clip = float(rowwise_dot(inputs.clip.vectors, a, b)[0])
            dino = float(rowwise_dot(inputs.dino.vectors, a, b)[0])
            rows.append(PairRow(f.pair_id, f.tile_a, f.tile_b, clip, dino, clip_id, dino_id, rank))
        else:
            r = old_rows.get(f.pair_id)
            if r is None:
                log.warning(
                    "exported pair %s: tiles %s, %s are gone; cannot keep it",
                    f.pair_id,
                    f.tile_a,
                    f.tile_b,
                )
                continue
            rows.append(
                PairRow(
                    f.pair_id,
                    f.tile_a,
                    f.tile_b,
                    r["clip_sim"],
                    r["dino_sim"],
                    r["clip_encoder"],
                    r["dino_encoder"],
                    rank,
                )
            )
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
    """Rank the pairs passing the thresholds and select them under the cap and budget."""
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
    fixed, old_rows = _fixed_pairs(ws, prev, params.fresh, set(cand_by_id))
    ordered = [(p, v[0], v[1]) for p, v in cand_by_id.items()]
    kept, taken = greedy_select(ordered, fixed, params.cap, params.budget)
    rows = _output_rows(kept, taken, inputs, cand_by_id, old_rows)
    return Selection(rows, len(main), len(taken), sum(f.pinned for f in kept))
