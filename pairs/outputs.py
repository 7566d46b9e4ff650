"""Build the pairs table and the yield curve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from blindpairs import schemas
from pairs.pairset import Candidates
from pairs.params import MineParams
from pairs.selection import capped_count, rank_order


@dataclass(frozen=True)
class PairRow:
    """One output row."""

    pair_id: str
    tile_a: str
    tile_b: str
    clip_sim: float
    dino_sim: float
    clip_encoder: str
    dino_encoder: str
    rank: int


def pairs_table(
    rows: list[PairRow], tau_clip: float, tau_dino: float, meta: dict[str, Any]
) -> pa.Table:
    """The pairs.parquet table (design columns, rank order) carrying ``meta``."""
    rows = sorted(rows, key=lambda r: r.rank)
    clip = np.array([r.clip_sim for r in rows], dtype=np.float32)
    dino = np.array([r.dino_sim for r in rows], dtype=np.float32)
    data = {
        "pair_id": [r.pair_id for r in rows],
        "tile_a": [r.tile_a for r in rows],
        "tile_b": [r.tile_b for r in rows],
        "clip_sim": clip,
        "dino_sim": dino,
        "gap": clip - dino,
        "clip_encoder": [r.clip_encoder for r in rows],
        "dino_encoder": [r.dino_encoder for r in rows],
        "tau_clip": np.full(len(rows), tau_clip, dtype=np.float32),
        "tau_dino": np.full(len(rows), tau_dino, dtype=np.float32),
        "rank": np.array([r.rank for r in rows], dtype=np.int64),
    }
    schema = schemas.with_metadata(schemas.PAIRS_SCHEMA, meta)
    return pa.table(data, schema=schema)


def yield_grid(valid: Candidates, pair_ids: list[str], params: MineParams) -> dict[str, Any]:
    """Pair counts over tau_clip x tau_dino: all candidates, and what the cap keeps."""
    rank_by, cap = params.rank_by, params.cap
    order = rank_order(valid.clip, valid.dino, pair_ids, rank_by)
    a, b, clip, dino = valid.a[order], valid.b[order], valid.clip[order], valid.dino[order]
    tc, td = sorted(set(params.yield_clip)), sorted(set(params.yield_dino))
    pairs: list[list[int]] = []
    capped: list[list[int]] = []
    for t_clip in tc:
        row_p, row_c = [], []
        for t_dino in td:
            m = (clip >= np.float32(t_clip)) & (dino < np.float32(t_dino))
            row_p.append(int(m.sum()))
            row_c.append(capped_count(a[m], b[m], cap))
        pairs.append(row_p)
        capped.append(row_c)
    return {
        "tau_clip": tc,
        "tau_dino": td,
        "pairs": pairs,
        "pairs_with_cap": capped,
        "cap": cap,
        "rank_by": rank_by,
        "note": "pairs[i][j]: pairs with clip_sim >= tau_clip[i] and dino_sim < tau_dino[j] "
        "after the spatial exclusion; pairs_with_cap: what the per-tile cap keeps of them",
    }
