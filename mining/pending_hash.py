"""A scene's content hash computed beside its cutting: the tile stage plans scenes
without hashing them (``plan_scene(defer_hash=True)``), hashes each file in its own
Dask task, and cuts meanwhile; tile ids (which derive from the hash) are set on the
chunk results as they are written."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from mining.plan import ScenePlan
from mining.scenes import SceneRef, content_hash
from mining.tiler import ChunkResult, with_tile_ids

# Image bytes of a scene's cut tiles held in memory while its content hash still runs;
# past this the writer waits for the hash (the cutting then waits for the writer).
HASH_WAIT_BYTES = 256 << 20


def submit_hash(client: Any, ref: SceneRef) -> Any:
    """A Dask future of :func:`content_hash` of ``ref``."""
    return client.submit(content_hash, ref, pure=False)


def identified(
    plan: ScenePlan, results: Iterator[ChunkResult], n_chunks: int, content: Any | None
) -> tuple[ScenePlan, Iterator[ChunkResult]]:
    """``plan`` with its content hash, and its scene's next ``n_chunks`` chunk results
    from ``results``, with their tile ids.

    ``content`` is the future of the hash of a plan made without it, or None when the
    plan has it. While the hash runs, chunk results are taken and held (up to
    :data:`HASH_WAIT_BYTES` of images). When the hash fails, the scene's remaining results
    are taken and dropped and the hash's exception is raised."""
    if content is None:
        return plan, itertools.islice(results, n_chunks)
    held: list[ChunkResult] = []
    size = 0
    while len(held) < n_chunks and not content.done() and size < HASH_WAIT_BYTES:
        held.append(next(results))
        size += held[-1].table.column("image").nbytes
    try:
        plan = replace(plan, content=content.result())
    except Exception:
        for _ in range(n_chunks - len(held)):
            next(results)
        raise
    finally:
        content.release()
    chunks = itertools.chain(held, itertools.islice(results, n_chunks - len(held)))
    return plan, _with_ids(plan, chunks)


def _with_ids(plan: ScenePlan, chunks: Iterator[ChunkResult]) -> Iterator[ChunkResult]:
    for res in chunks:
        res.table = with_tile_ids(res.table, plan)
        yield res
