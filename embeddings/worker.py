"""What runs on a Dask worker: one encoder per configuration per process, and chunk tasks.

The encoder is created on first use and cached in this module, so each worker
process loads a model once however many chunks it runs. Within a chunk, the
next batch's PNGs are decoded and transformed by a thread pool while the model
runs the current batch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from blindpairs.errors import BlindpairsError
from embeddings.encoder import ImageEncoder
from embeddings.errors import EncoderLoadError

_MAX_CACHED = 2
_ENCODERS: dict[EncoderConfig, ImageEncoder] = {}
_CACHE_LOCK = threading.Lock()


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
class ChunkTask:
    """Tiles of one output part: ids and PNG bytes (sent to the worker with the task).

    ``batch_size`` ``None``: the encoder's own choice (32 on CPU, by free memory on CUDA).
    """

    config: EncoderConfig
    source: str
    tile_ids: tuple[str, ...]
    images: tuple[bytes | None, ...]
    batch_size: int | None = None
    decode_threads: int = 4


@dataclass
class ChunkResult:
    """Embedded ids with their vectors, and tiles that failed with the reason."""

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


def get_encoder(config: EncoderConfig) -> ImageEncoder:
    """The cached encoder for ``config``, created on first use in this process."""
    with _CACHE_LOCK:
        if config not in _ENCODERS:
            while len(_ENCODERS) >= _MAX_CACHED:
                _ENCODERS.pop(next(iter(_ENCODERS)))
            _ENCODERS[config] = _create(config)
        return _ENCODERS[config]


def release_encoders() -> None:
    """Drop this process's cached encoders (after a local run; later stages need the memory)."""
    with _CACHE_LOCK:
        _ENCODERS.clear()


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


def _prepare(encoder: ImageEncoder, data: bytes | None) -> Any:
    """Decode and preprocess one tile; an exception here fails only that tile."""
    return encoder.prepare_tile(data)


def _submit_batch(
    pool: ThreadPoolExecutor, encoder: ImageEncoder, images: Sequence[bytes | None]
) -> list[Future]:
    return [pool.submit(_prepare, encoder, data) for data in images]


def embed_chunk(task: ChunkTask) -> ChunkResult:
    """Embed one chunk of tiles; undecodable tiles and bad vectors become failures."""

    start = time.perf_counter()
    try:
        encoder = get_encoder(task.config)
    except BlindpairsError as exc:
        return ChunkResult(task.source, [], np.zeros((0, 0), np.float32), error=exc)
    loaded = time.perf_counter()
    ids: list[str] = []
    vectors: list[np.ndarray] = []
    failures: list[tuple[str, str]] = []
    step = max(1, encoder.batch_size(task.batch_size))
    starts = list(range(0, len(task.tile_ids), step))
    with ThreadPoolExecutor(max(1, task.decode_threads)) as pool:
        pending = _submit_batch(pool, encoder, task.images[0:step]) if starts else []
        for i, lo in enumerate(starts):
            current, batch_ids = pending, task.tile_ids[lo : lo + step]
            if i + 1 < len(starts):
                nxt = starts[i + 1]
                pending = _submit_batch(pool, encoder, task.images[nxt : nxt + step])
            good_ids, tensors = [], []
            for tid, fut in zip(batch_ids, current, strict=True):
                try:
                    tensors.append(fut.result())
                    good_ids.append(tid)
                except Exception as exc:
                    failures.append((tid, f"cannot decode image: {type(exc).__name__}: {exc}"))
            if not tensors:
                continue
            out = encoder.encode_prepared(tensors)
            finite = np.isfinite(out).all(axis=1)
            failures.extend(
                (t, "embedding is not finite or is zero")
                for t, ok in zip(good_ids, finite, strict=True)
                if not ok
            )
            ids.extend(t for t, ok in zip(good_ids, finite, strict=True) if ok)
            vectors.append(out[finite])
    dim = encoder.dim
    return ChunkResult(
        source=task.source,
        tile_ids=ids,
        vectors=np.concatenate(vectors) if vectors else np.zeros((0, dim), np.float32),
        failures=failures,
        info=encoder.info(),
        seconds=time.perf_counter() - start,
        load_seconds=loaded - start,
    )
