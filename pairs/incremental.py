"""The search step of a run: cached candidates plus a search of the tiles not searched yet."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from blindpairs.progress import progress
from blindpairs.workspace import Workspace
from pairs import store
from pairs.candidates import find_candidates
from pairs.faiss_import import gpu_count
from pairs.inputs import MineInputs
from pairs.pairset import Candidates
from pairs.params import MineParams
from pairs.runner import RunnerFactory, local_runner
from pairs.search_plan import SearchPlan, plan_search

log = logging.getLogger(__name__)
RECALL_WARN = 0.99


@dataclass(frozen=True)
class Found:
    """All candidates among the current tiles, and how this run searched."""

    candidates: Candidates
    plan: SearchPlan
    searched: int
    recall: float | None


def search_key(inputs: MineInputs, params: MineParams) -> dict[str, Any]:
    return {
        "clip": [inputs.clip.encoder_id, inputs.clip.weights],
        "dino": [inputs.dino.encoder_id, inputs.dino.weights],
        "clip_min": params.search_clip,
        "dino_max": params.search_dino,
    }


def _cached(
    ws: Workspace, inputs: MineInputs, key: dict, fresh: bool
) -> tuple[Candidates, np.ndarray]:
    """Cached candidates among current tiles, and the mask of tiles still to search."""
    n = len(inputs.tile_ids)
    cache = None if fresh else store.read_cache(ws, key)
    if cache is None:
        return Candidates.empty(), np.ones(n, dtype=bool)
    table, searched = cache
    pos = {t: i for i, t in enumerate(inputs.tile_ids)}
    a = np.array([pos.get(t, -1) for t in table.column("tile_a").to_pylist()], dtype=np.int64)
    b = np.array([pos.get(t, -1) for t in table.column("tile_b").to_pylist()], dtype=np.int64)
    keep = (a >= 0) & (b >= 0)
    old = Candidates(
        a[keep],
        b[keep],
        table.column("clip_sim").to_numpy()[keep].astype(np.float32),
        table.column("dino_sim").to_numpy()[keep].astype(np.float32),
    )
    queries = np.array([t not in searched for t in inputs.tile_ids], dtype=bool)
    return old, queries


def _cache_table(c: Candidates, ids: np.ndarray) -> pa.Table:
    return pa.table(
        {"tile_a": ids[c.a], "tile_b": ids[c.b], "clip_sim": c.clip, "dino_sim": c.dino},
        schema=store.CACHE_SCHEMA,
    )


def search_new(
    ws: Workspace,
    faiss: Any,
    inputs: MineInputs,
    params: MineParams,
    quiet: bool,
    runners: RunnerFactory | None = None,
) -> Found:
    """Search the tiles that the cache has not seen (all with ``fresh``); update the cache.

    The search runs on a runner from ``runners`` (default: this process), opened
    only when there is something to search.
    """
    n = len(inputs.tile_ids)
    key = search_key(inputs, params)
    old, queries = _cached(ws, inputs, key, params.fresh)
    if not queries.any() or n < 2:
        plan = plan_search(
            n, params.index, params.exact_max, gpu_count(faiss), params.nlist, params.nprobe
        )
        return Found(old, plan, 0, None)
    with (runners or local_runner)() as runner:
        gpus = runner.gpus()
        plan = plan_search(n, params.index, params.exact_max, gpus, params.nlist, params.nprobe)
        with progress(None, "mine: searching", unit="unit", quiet=quiet) as bar:
            result = find_candidates(
                faiss,
                inputs.clip.vectors,
                inputs.dino.vectors,
                queries,
                plan,
                clip_min=params.search_clip,
                dino_max=params.search_dino,
                tau_clip=params.tau_clip,
                batch=params.batch,
                recall_sample=params.recall_sample,
                bar=bar,
                runner=runner,
            )
    cands = Candidates.concat([old, result.candidates])
    ids = np.array(inputs.tile_ids, dtype=object)
    store.write_cache(ws, key, _cache_table(cands, ids), list(inputs.tile_ids))
    if result.recall is not None and result.recall < RECALL_WARN:
        log.warning(
            "IVF recall %.3f < %.2f on a sample; raise --nprobe (now %d)",
            result.recall,
            RECALL_WARN,
            plan.nprobe,
        )
    return Found(cands, plan, int(queries.sum()), result.recall)
