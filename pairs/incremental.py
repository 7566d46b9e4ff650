"""The search step of a run: cached candidates plus a search of new or re-embedded tiles."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from blindpairs import schemas
from blindpairs.progress import progress
from blindpairs.workspace import Workspace
from pairs import store
from pairs.candidates import SearchOptions, SearchVectors, Thresholds, find_candidates
from pairs.faiss_import import gpu_count
from pairs.inputs import MineInputs
from pairs.pairset import Candidates
from pairs.params import MineParams
from pairs.runner import RunnerFactory, local_runner
from pairs.search_plan import SearchPlan, plan_search

log = logging.getLogger(__name__)
RECALL_WARN = 0.99
CACHE_VERSION = 2  # 2: key on the whole embedding identity; per-tile vector hashes


@dataclass(frozen=True)
class Found:
    """All candidates among the current tiles, and how this run searched."""

    candidates: Candidates
    plan: SearchPlan
    searched: int
    recall: float | None


def search_key(inputs: MineInputs, params: MineParams) -> dict[str, Any]:
    """What the cached candidates depend on besides the vectors themselves."""
    return {
        "version": CACHE_VERSION,
        "clip": schemas.embedding_identity(inputs.clip.meta),
        "dino": schemas.embedding_identity(inputs.dino.meta),
        "clip_min": params.search_clip,
        "dino_max": params.search_dino,
    }


@dataclass(frozen=True)
class TileHashes:
    """Fingerprints of each current tile's CLIP and DINOv2 vectors (row-aligned)."""

    clip: np.ndarray
    dino: np.ndarray

    @classmethod
    def of(cls, inputs: MineInputs) -> TileHashes:
        # hashed as they were read (DINOv2 rows not read at load: by their first read)
        return cls(inputs.clip.hashes, inputs.dino.hashes)

    def table(self, ids: list[str]) -> pa.Table:
        return pa.table(
            {"tile_id": ids, "clip_hash": self.clip, "dino_hash": self.dino},
            schema=store.SEARCHED_SCHEMA,
        )


def _unchanged(searched: pa.Table, ids: list[str], hashes: TileHashes) -> np.ndarray:
    """Mask of current tiles searched before with exactly the vectors they have now."""
    before = {
        t: (c, d)
        for t, c, d in zip(
            searched.column("tile_id").to_pylist(),
            searched.column("clip_hash").to_numpy(),
            searched.column("dino_hash").to_numpy(),
            strict=True,
        )
    }
    now = zip(ids, hashes.clip, hashes.dino, strict=True)
    return np.array([before.get(t) == (c, d) for t, c, d in now], dtype=bool)


def _cached(
    ws: Workspace, inputs: MineInputs, key: dict, fresh: bool
) -> tuple[Candidates, np.ndarray]:
    """Cached candidates among unchanged tiles, and the mask of tiles to search.

    A tile is searched again when it is new or when either of its vectors
    changed (re-embedded); cached pairs involving such a tile are dropped. The tiles'
    hashes are taken only when there is a cache (DINOv2 rows not read at load are
    otherwise hashed later, by the search's own pass over them).
    """
    n = len(inputs.tile_ids)
    cache = None if fresh else store.read_cache(ws, key)
    if cache is None:
        return Candidates.empty(), np.ones(n, dtype=bool)
    table, searched = cache
    unchanged = _unchanged(searched, inputs.tile_ids, TileHashes.of(inputs))
    pos = {t: i for i, t in enumerate(inputs.tile_ids)}
    a = np.array([pos.get(t, -1) for t in table.column("tile_a").to_pylist()], dtype=np.int64)
    b = np.array([pos.get(t, -1) for t in table.column("tile_b").to_pylist()], dtype=np.int64)
    keep = (a >= 0) & (b >= 0)
    keep[keep] = unchanged[a[keep]] & unchanged[b[keep]]
    old = Candidates(
        a[keep],
        b[keep],
        table.column("clip_sim").to_numpy()[keep].astype(np.float32),
        table.column("dino_sim").to_numpy()[keep].astype(np.float32),
    )
    return old, ~unchanged


def _cache_table(c: Candidates, ids: np.ndarray) -> pa.Table:
    return pa.table(
        {"tile_a": ids[c.a], "tile_b": ids[c.b], "clip_sim": c.clip, "dino_sim": c.dino},
        schema=schemas.CANDIDATES_SCHEMA,
    )


def search_new(
    ws: Workspace,
    faiss: Any,
    inputs: MineInputs,
    params: MineParams,
    quiet: bool,
    runners: RunnerFactory | None = None,
) -> Found:
    """Search the tiles that the cache has not seen or whose vectors changed (all with
    ``fresh``); update the cache.

    The search runs on a runner from ``runners`` (default: this process), opened
    only when there is something to search.
    """
    n = len(inputs.tile_ids)
    key = search_key(inputs, params)
    old, queries = _cached(ws, inputs, key, params.force)
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
                SearchVectors(inputs.clip.vectors, inputs.dino.vectors, queries),
                plan,
                Thresholds(params.search_clip, params.search_dino, params.tau_clip),
                SearchOptions(params.batch, params.recall_sample),
                bar=bar,
                runner=runner,
            )
    cands = Candidates.concat([old, result.candidates])
    ids = np.array(inputs.tile_ids, dtype=object)
    hashes = TileHashes.of(inputs).table(inputs.tile_ids)
    store.write_cache(ws, key, _cache_table(cands, ids), hashes)
    if result.recall is not None and result.recall < RECALL_WARN:
        log.warning(
            "IVF recall %.3f < %.2f on a sample; raise --nprobe (now %d)",
            result.recall,
            RECALL_WARN,
            plan.nprobe,
        )
    return Found(cands, plan, int(queries.sum()), result.recall)
