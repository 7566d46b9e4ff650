"""The embed stage: plan (no model loaded), then embed only the missing tiles on Dask.

For each encoder (CLIP, DINOv2): tiles that already have an embedding of the
same identity (encoder id, weights, preprocessing) or that failed before are
skipped; the rest are split into output parts of at most ``part_size`` tiles of
one tiles part, sent to Dask workers in tasks of at most ``part_size`` tiles
(small parts share a task, so batches stay full), and each part comes back
and is written atomically, in order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blindpairs import atomic, compute, lock
from blindpairs.compute import Compute
from blindpairs.errors import BlindpairsError, ConfigError, WorkspaceError
from blindpairs.progress import progress
from blindpairs.workspace import Workspace
from embeddings import clip, dinov2, identity_cache, registry, replace, store, tiles, weights
from embeddings import device as devices
from embeddings.encoder import CPU_BATCH
from embeddings.params import NONE, EmbedParams
from embeddings.spec import EncoderOptions
from embeddings.worker import (
    ChunkResult,
    ChunkTask,
    EncoderConfig,
    Segment,
    embed_chunk,
    release_encoders,
)

log = logging.getLogger(__name__)

# batches in a job's first task: the model starts on them while the client reads the rest
FIRST_TASK_BATCHES = 2

ClientFactory = Callable[[], contextlib.AbstractContextManager[Any]]


@dataclass
class EncoderJob:
    """One encoder's share of the work, planned without loading the model."""

    role: str
    config: EncoderConfig
    identity: dict[str, Any]
    out_dir: Path
    todo: dict[Path, list[str]]
    skipped: int
    failed_before: int
    stale_parts: list[Path] = field(default_factory=list)
    vanished: int = 0

    @property
    def n_todo(self) -> int:
        return sum(len(v) for v in self.todo.values())


@dataclass
class EncoderSummary:
    """What one encoder's run did."""

    encoder_id: str
    embedded: int = 0
    skipped: int = 0
    failed: int = 0
    failed_before: int = 0
    parts: int = 0
    vanished: int = 0
    pruned: int = 0
    seconds: float = 0.0
    load_seconds: float = 0.0
    reasons: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- planning
def selected_encoders(params: EmbedParams) -> dict[str, str]:
    """Role -> encoder id: the shared encoder choice (:meth:`EncoderChoice.encoder_ids`,
    which applies the ``none`` rule and the family check), each id known to the registry."""
    chosen = params.encoder_ids()
    for encoder_id in chosen.values():
        registry.get_spec(encoder_id)
    return chosen


def encoder_config(role: str, encoder_id: str, params: EmbedParams) -> EncoderConfig:
    dino = role == "dino"
    return EncoderConfig(
        encoder_id=encoder_id,
        checkpoint=params.dino_checkpoint if dino else params.clip_checkpoint,
        image_size=params.dino_size if dino else None,
        pooling=params.dino_pooling if dino else None,
        device=params.device,
        compute_dtype=params.compute_dtype,
    )


def planned_dtype(out_dir: Path, model: dict[str, Any], config: EncoderConfig) -> str:
    """The concrete compute dtype of a run, part of the embedding identity.

    An explicit ``--compute-dtype`` is used as given. ``auto`` keeps the dtype
    the folder's parts were made with (a resumed run never mixes dtypes, and a
    no-op run imports no torch); in an empty folder it follows the rule in
    :mod:`embeddings.device` (never a timing).
    """
    if config.compute_dtype != "auto":
        return config.compute_dtype
    recorded = store.recorded_compute_dtypes(out_dir, model)
    if len(recorded) == 1:
        return recorded.pop()
    return devices.compute_dtype_name("auto", config.device)


def plan_job(
    ws: Workspace,
    role: str,
    config: EncoderConfig,
    part_ids: dict[Path, list[str]],
    params: EmbedParams,
) -> EncoderJob:
    """Compare the tiles with what the encoder folder holds; fail fast on a foreign folder."""
    options = EncoderOptions(config.checkpoint, config.image_size, config.pooling)
    model = identity_cache.cached_describe(ws.embeddings, config.encoder_id, options)
    out_dir = ws.encoder_dir(config.encoder_id)
    config = dataclasses.replace(config, compute_dtype=planned_dtype(out_dir, model, config))
    identity = store.identity({**model, "compute_dtype": config.compute_dtype})
    resumed = replace.recover(out_dir, identity) == "resumed"
    state = store.scan(out_dir, identity)
    if state.other_parts and not (params.replace or resumed):
        raise ConfigError(
            f"{out_dir} holds {len(state.other_parts)} part(s) of a different embedding "
            f"({store.differences(state.other_identity or {}, identity)}); re-run with the "
            "options that made them, or pass --replace to delete them and re-embed"
        )
    skip = set() if state.other_parts else set(state.done)
    failed_before = {} if params.retry_failed or state.other_parts else state.failed
    all_ids = {t for ids in part_ids.values() for t in ids}
    todo: dict[Path, list[str]] = {}
    skipped = 0
    for part, ids in part_ids.items():
        missing = [t for t in ids if t not in skip and t not in failed_before]
        skipped += len(ids) - len(missing)
        if missing:
            todo[part] = missing
    return EncoderJob(
        role=role,
        config=config,
        identity=identity,
        out_dir=out_dir,
        todo=todo,
        skipped=skipped,
        failed_before=len(failed_before),
        stale_parts=state.other_parts,
        vanished=len(state.done - all_ids),
    )


def read_tile_index(ws: Workspace) -> dict[Path, list[str]]:
    """Tile ids per tiles part (duplicates across parts are embedded once)."""
    parts = ws.tile_parts()
    if not parts:
        raise WorkspaceError(f"{ws.tiles}: no tile parts; run `blindpairs tile` first")
    seen: set[str] = set()
    out: dict[Path, list[str]] = {}
    for part in parts:
        ids = [t for t in dict.fromkeys(tiles.tile_ids(part)) if t not in seen]
        seen.update(ids)
        out[part] = ids
    return out


def plan(ws: Workspace, params: EmbedParams) -> list[EncoderJob]:
    """Validate options and list the work; loads no model."""
    chosen = selected_encoders(params)
    for flag, path in (
        ("--clip-checkpoint", params.clip_checkpoint),
        ("--dino-checkpoint", params.dino_checkpoint),
    ):
        if path and not Path(path).is_file():
            raise ConfigError(f"{flag} {path}: no such file")
    part_ids = read_tile_index(ws)
    return [
        plan_job(ws, role, encoder_config(role, encoder_id, params), part_ids, params)
        for role, encoder_id in chosen.items()
    ]


# ---------------------------------------------------------------- running
def segments(
    job: EncoderJob, params: EmbedParams
) -> Iterator[tuple[Segment, tuple[bytes | None, ...]]]:
    """Each output part (``part_size`` tiles of one tiles part) with its image bytes.

    One tiles part is read at a time.
    """
    for part, ids in job.todo.items():
        images = tiles.tile_images(part, set(ids))
        for lo in range(0, len(ids), params.part_size):
            chunk = ids[lo : lo + params.part_size]
            yield Segment(part.stem, tuple(chunk)), tuple(images.get(t) for t in chunk)


def task_sizes(params: EmbedParams) -> Iterator[int]:
    """Tiles per task: the first holds :data:`FIRST_TASK_BATCHES` batches, so the model
    starts while the client reads the next tiles; then ``part_size`` each."""
    batch = CPU_BATCH if params.batch_size == "auto" else int(params.batch_size)
    yield min(params.part_size, FIRST_TASK_BATCHES * batch)
    while True:
        yield params.part_size


def chunk_tasks(job: EncoderJob, params: EmbedParams) -> Iterator[ChunkTask]:
    """Tasks filled to :func:`task_sizes` with the tiles of consecutive output parts.

    Small tiles parts (a few tiles per scene) share a task, so the worker runs
    full batches across them instead of one short batch per part; an output
    part that does not fit is split between two tasks (its first piece marked
    incomplete) and joined again before it is written, so parts are the same
    however the tasks are cut.
    """
    batch = None if params.batch_size == "auto" else int(params.batch_size)
    sizes = task_sizes(params)
    limit = next(sizes)
    group: list[Segment] = []
    images: list[bytes | None] = []
    for segment, data in segments(job, params):
        ids, pos = segment.tile_ids, 0
        while pos < len(ids):
            end = pos + min(limit - len(images), len(ids) - pos)
            group.append(Segment(segment.source, ids[pos:end], complete=end == len(ids)))
            images.extend(data[pos:end])
            pos = end
            if len(images) == limit:
                yield ChunkTask(
                    job.config, tuple(group), tuple(images), batch, params.decode_threads
                )
                group, images, limit = [], [], next(sizes)
    if group:
        yield ChunkTask(job.config, tuple(group), tuple(images), batch, params.decode_threads)


def task_resources(client: Any, spec: str) -> dict[str, float] | None:
    """The Dask resources each task asks for (``auto``: GPU=1 if some worker has GPUs)."""
    if spec == NONE:
        return None
    if spec == "auto":
        workers = client.scheduler_info().get("workers", {}).values()
        has_gpu = any((w.get("resources") or {}).get("GPU") for w in workers)
        return {"GPU": 1.0} if has_gpu else None
    name, _, amount = spec.partition("=")
    return {name: float(amount)}


def _window(client: Any) -> int:
    workers = client.scheduler_info().get("workers", {})
    return max(2, 2 * len(workers))


def save_result(job: EncoderJob, result: ChunkResult, params: EmbedParams) -> int:
    """Write one chunk's part and failures; return the number of parts written."""
    got = store.identity(result.info)
    if got != job.identity:
        raise BlindpairsError(
            f"{job.config.encoder_id}: a worker produced a different embedding than planned "
            f"({store.differences(job.identity, got)}); make the workers' open_clip/timm "
            "versions match this machine's"
        )
    written = 0
    if result.tile_ids:
        meta = {**result.info, "storage_dtype": params.dtype, "source_part": result.source}
        name = store.part_name(result.source, result.tile_ids)
        store.write_part(job.out_dir, name, result.tile_ids, result.vectors, meta, params.dtype)
        written = 1
    store.record_failures(job.out_dir, job.identity, result.failures, resolved=result.tile_ids)
    return written


def run_job(job: EncoderJob, client: Any, params: EmbedParams, quiet: bool) -> EncoderSummary:
    """Embed one encoder's missing tiles; parts are written as chunks come back, in order."""
    summary = EncoderSummary(
        job.config.encoder_id, skipped=job.skipped, failed_before=job.failed_before
    )
    job.out_dir.mkdir(parents=True, exist_ok=True)
    atomic.clean_stale_temporaries(job.out_dir)
    with replace.set_aside(job.out_dir, job.stale_parts):
        _embed_chunks(job, client, params, quiet, summary)
    return summary


def _embed_chunks(
    job: EncoderJob, client: Any, params: EmbedParams, quiet: bool, summary: EncoderSummary
) -> None:
    start = time.perf_counter()
    results = compute.ordered_map(
        client,
        embed_chunk,
        chunk_tasks(job, params),
        window=_window(client),
        resources=task_resources(client, params.resource),
    )
    piece: ChunkResult | None = None  # the first piece of a part split between two tasks
    with progress(job.n_todo, f"embed {job.config.encoder_id}", unit="tile", quiet=quiet) as bar:
        for chunk in results:
            for result in chunk:
                if result.error is not None:
                    raise result.error
                bar.update(len(result.tile_ids) + len(result.failures))
                if piece is not None:
                    result, piece = piece.joined(result), None
                if not result.complete:
                    piece = result
                    continue
                summary.parts += save_result(job, result, params)
                summary.embedded += len(result.tile_ids)
                summary.failed += len(result.failures)
                # concurrent chunks wait for the same load: its wall time is the longest wait
                summary.load_seconds = max(summary.load_seconds, result.load_seconds)
                summary.reasons.update(result.failures)
    summary.seconds = time.perf_counter() - start


CHECKPOINT_FLAGS = {"clip": clip.CHECKPOINT_FLAG, "dino": dinov2.CHECKPOINT_FLAG}


def check_checkpoints(jobs: list[EncoderJob]) -> None:
    """Fail before any Dask work when a checkpoint file of a job with work cannot load."""
    for job in jobs:
        if job.config.checkpoint and (job.n_todo or job.stale_parts):
            weights.check_checkpoint(
                job.config.encoder_id, job.config.checkpoint, CHECKPOINT_FLAGS[job.role]
            )


def prune_vanished(ws: Workspace, jobs: list[EncoderJob], summaries: list[EncoderSummary]) -> None:
    """``--prune``: drop stored embeddings of tiles no longer in ``tiles/``."""
    keep = {t for part in ws.tile_parts() for t in tiles.tile_ids(part)}
    for job, summary in zip(jobs, summaries, strict=True):
        if job.vanished:
            summary.pruned = store.prune(job.out_dir, job.identity, keep)


@lock.locked("embed")
def embed_workspace(
    ws: Workspace,
    params: EmbedParams,
    client_factory: ClientFactory | None = None,
    quiet: bool = False,
) -> list[EncoderSummary]:
    """Embed every tile that lacks an embedding; start Dask only when there is work."""
    jobs = plan(ws, params)
    summaries = [
        EncoderSummary(
            j.config.encoder_id,
            skipped=j.skipped,
            failed_before=j.failed_before,
            vanished=j.vanished,
        )
        for j in jobs
    ]
    check_checkpoints(jobs)
    if params.prune:
        prune_vanished(ws, jobs, summaries)
    if not any(j.n_todo or j.stale_parts for j in jobs):
        replace.finish_all(j.out_dir for j in jobs)
        return summaries
    factory = client_factory or compute.dask_client
    try:
        with factory() as client:
            for i, job in enumerate(jobs):
                if job.n_todo or job.stale_parts:
                    done = run_job(job, client, params, quiet)
                    done.vanished, done.pruned = summaries[i].vanished, summaries[i].pruned
                    summaries[i] = done
        replace.finish_all(j.out_dir for j in jobs)
    finally:
        release_encoders()  # a local cluster's models live in this process
    return summaries


def run(
    workspace: Workspace | str | Path, params: EmbedParams, compute: Compute
) -> list[EncoderSummary]:
    """The embed stage: embed every tile that lacks an embedding, on ``compute``'s cluster
    (a local one, checked first for the device asked for, or ``compute.scheduler``'s)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    if compute.address is None:
        check_local_device(params.device)
    return embed_workspace(ws, params, compute.client, quiet=compute.quiet)


def check_local_device(device: str) -> None:
    """Fail fast when a CUDA device is asked for on a machine (local cluster) without one."""
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(
                f"--device {device}: CUDA is not available here; use --device auto or cpu"
            )
