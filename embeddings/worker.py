"""What runs on a Dask worker: one encoder per configuration per process, and chunk tasks.

The encoder is created (and warmed up) on first use and cached in this module,
so each worker process loads a model once however many chunks it runs. A
chunk holds one or more output parts; its tiles go through the model in full
batches across those parts. A thread pool decodes and transforms the tiles
(:func:`prepared_batches`): on an accelerator, the next batches while the model
runs the current one; on the CPU, where the forward already has every core the
worker was given, each batch just before its forward, in parallel (decoding
beside the forward only takes cores from it, and a descheduled intra-op thread
stalls the whole forward at its next barrier).
Torch's intra-op threads are set to the worker's Dask threads (the cores it was
given; one forward runs at a time per model).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from blindpairs import malloc
from blindpairs.errors import BlindpairsError
from embeddings.encoder import ImageEncoder
from embeddings.errors import EncoderLoadError

_MAX_CACHED = 2
_ENCODERS: dict[EncoderConfig, ImageEncoder] = {}
_CACHE_LOCK = threading.Lock()
# decoded tiles kept ready ahead of the forward pass (at least one batch, at most two)
PREFETCH_TILES = 128


@dataclass(frozen=True)
class EncoderConfig:
    """Everything needed to create an encoder; the per-process cache key."""

    encoder_id: str
    checkpoint: str | None = None
    image_size: int | None = None
    pooling: str | None = None
    device: str = "auto"
    compute_dtype: str = "auto"


@dataclass(frozen=True)
class Segment:
    """Tiles of one output part: the tiles part they come from and their ids.

    ``complete`` is false when more of the same output part follows, as the first
    segment of the next task (the client joins the pieces before writing the part).
    """

    source: str
    tile_ids: tuple[str, ...]
    complete: bool = True


@dataclass(frozen=True)
class ChunkTask:
    """Tiles of one or more output parts: ids and PNG bytes (sent with the task).

    ``images`` holds the bytes of every segment's tiles, in segment order.
    ``batch_size`` ``None``: the encoder's own choice (32 on CPU, by free memory on CUDA).
    """

    config: EncoderConfig
    segments: tuple[Segment, ...]
    images: tuple[bytes | None, ...]
    batch_size: int | None = None
    decode_threads: int = 4

    @property
    def tile_ids(self) -> tuple[str, ...]:
        return tuple(t for s in self.segments for t in s.tile_ids)


@dataclass
class ChunkResult:
    """One output part: embedded ids with their vectors, and tiles that failed with the reason."""

    source: str
    tile_ids: list[str]
    vectors: np.ndarray
    failures: list[tuple[str, str]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    # The encoder could not be created (e.g. weights offline): returned, not raised, so
    # that Dask logs no "Compute Failed" traceback; the client raises it.
    error: BlindpairsError | None = None
    load_seconds: float = 0.0
    # false: a piece of an output part whose other tiles come in the next task's result
    complete: bool = True

    def joined(self, rest: ChunkResult) -> ChunkResult:
        """This piece of an output part followed by the next piece of the same part."""
        return ChunkResult(
            source=self.source,
            tile_ids=self.tile_ids + rest.tile_ids,
            vectors=np.concatenate([self.vectors, rest.vectors]),
            failures=self.failures + rest.failures,
            info=rest.info,
            load_seconds=max(self.load_seconds, rest.load_seconds),
            complete=rest.complete,
        )


def get_encoder(config: EncoderConfig) -> ImageEncoder:
    """The cached encoder for ``config``, created and warmed up on first use in this process.

    Also tunes malloc (:mod:`blindpairs.malloc`) in a worker process that did not
    start through the ``blindpairs`` command (a cluster given by address).
    """
    malloc.tune()
    with _CACHE_LOCK:
        if config not in _ENCODERS:
            while len(_ENCODERS) >= _MAX_CACHED:
                _ENCODERS.pop(next(iter(_ENCODERS)))
            encoder = _create(config)
            encoder.warm_up()
            _ENCODERS[config] = encoder
        return _ENCODERS[config]


def release_encoders() -> None:
    """Drop this process's cached encoders (after a local run; later stages need the memory)."""
    with _CACHE_LOCK:
        _ENCODERS.clear()
    malloc.release()


def _create(config: EncoderConfig) -> ImageEncoder:
    """Create the encoder; a library error becomes one naming the encoder and its weights."""
    from embeddings.registry import create_encoder

    try:
        return create_encoder(
            config.encoder_id,
            checkpoint=config.checkpoint,
            device=config.device,
            dtype=config.compute_dtype,
            image_size=config.image_size,
            pooling=config.pooling,
        )
    except BlindpairsError:
        raise
    except Exception as exc:  # timm/open_clip/torch raise many types
        first = str(exc).splitlines()[0].strip() if str(exc) else ""
        weights = f"checkpoint {config.checkpoint}" if config.checkpoint else "its default weights"
        raise EncoderLoadError(
            f"cannot create encoder {config.encoder_id!r} with {weights}: "
            f"{type(exc).__name__}: {first}"
        ) from None


def worker_threads() -> int | None:
    """The Dask threads of the worker running this task (``None``: not on a worker)."""
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError):
        return None


def match_torch_threads(n: int | None) -> None:
    """Give torch ``n`` intra-op threads in the calling thread (a no-op for ``None``)."""
    import torch

    if n and torch.get_num_threads() != n:
        torch.set_num_threads(n)


def batch_spans(n: int, step: int) -> list[tuple[int, int]]:
    """``(lo, hi)`` of consecutive batches of ``step`` over ``n`` items."""
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)]


def prefetch_depth(step: int, device: str) -> int:
    """Batches decoded ahead of the forward: none on the CPU; elsewhere two, one for
    batches over PREFETCH_TILES / 2."""
    if device.split(":")[0] == "cpu":
        return 0
    return max(1, min(2, PREFETCH_TILES // max(step, 1)))


def prepared_batches(
    pool: ThreadPoolExecutor,
    encoder: ImageEncoder,
    images: Sequence[bytes | None],
    step: int,
    ahead: int | None = None,
) -> Iterator[tuple[int, int, list[Future]]]:
    """``(lo, hi, futures)`` per batch, in order, decoded ``ahead`` batches ahead
    (default: :func:`prefetch_depth` for the encoder's device).

    With ``ahead`` > 0, when a batch is handed out the next ones are already
    being decoded, so the caller's forward pass on it overlaps their decoding;
    with 0, a batch's tiles are decoded (in parallel) only when it is asked for.
    """
    ahead = prefetch_depth(step, encoder.device) if ahead is None else ahead
    spans = iter(batch_spans(len(images), step))
    queue: deque[tuple[int, int, list[Future]]] = deque()

    def submit_next() -> None:
        span = next(spans, None)
        if span is not None:
            lo, hi = span
            queue.append((lo, hi, [pool.submit(_prepare, encoder, d) for d in images[lo:hi]]))

    for _ in range(ahead + 1):
        submit_next()
    while queue:
        batch = queue.popleft()
        yield batch
        submit_next()


def _prepare(encoder: ImageEncoder, data: bytes | None) -> Any:
    """Decode and preprocess one tile; an exception here fails only that tile."""
    return encoder.prepare_tile(data)


def embed_chunk(task: ChunkTask) -> list[ChunkResult]:
    """Embed one chunk; one result per segment. Undecodable tiles and bad vectors fail alone."""
    start = time.perf_counter()
    try:
        encoder = get_encoder(task.config)
    except BlindpairsError as exc:
        return [ChunkResult("", [], np.zeros((0, 0), np.float32), error=exc)]
    loaded = time.perf_counter()
    match_torch_threads(worker_threads())
    ids = task.tile_ids
    vectors = np.zeros((len(ids), encoder.dim), np.float32)
    reasons: dict[int, str] = {}
    step = max(1, encoder.batch_size(task.batch_size))
    with ThreadPoolExecutor(max(1, task.decode_threads)) as pool:
        for lo, hi, futures in prepared_batches(pool, encoder, task.images, step):
            good, tensors = [], []
            for i, fut in zip(range(lo, hi), futures, strict=True):
                try:
                    tensors.append(fut.result())
                    good.append(i)
                except Exception as exc:
                    reasons[i] = f"cannot decode image: {type(exc).__name__}: {exc}"
            if not tensors:
                continue
            out = encoder.encode_prepared(tensors)
            for i, row in zip(good, out, strict=True):
                if np.isfinite(row).all():
                    vectors[i] = row
                else:
                    reasons[i] = "embedding is not finite or is zero"
    info = encoder.info()
    results = split_segments(task.segments, vectors, reasons, info)
    results[0].seconds = time.perf_counter() - start
    results[0].load_seconds = loaded - start
    return results


def split_segments(
    segments: Sequence[Segment],
    vectors: np.ndarray,
    reasons: dict[int, str],
    info: dict[str, Any],
) -> list[ChunkResult]:
    """One result per segment from a chunk's vectors (rows in segment order) and failures."""
    out, lo = [], 0
    for seg in segments:
        rows = range(lo, lo + len(seg.tile_ids))
        ok = [i for i in rows if i not in reasons]
        out.append(
            ChunkResult(
                source=seg.source,
                tile_ids=[seg.tile_ids[i - lo] for i in ok],
                vectors=vectors[ok] if ok else np.zeros((0, vectors.shape[1]), np.float32),
                failures=[(seg.tile_ids[i - lo], reasons[i]) for i in rows if i in reasons],
                info=info,
                complete=seg.complete,
            )
        )
        lo += len(seg.tile_ids)
    return out
