"""Options of the embed stage (flags, ``embed:`` config section, resolved config)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blindpairs.config import option, optional_text, positive_int
from blindpairs.encoder_choice import NONE, EncoderChoice
from embeddings.device import COMPUTE_DTYPES, parse_device
from embeddings.dinov2 import POOLINGS
from embeddings.store import STORAGE_TYPES


def optional_positive_int(value: Any) -> int | None:
    if value is None or str(value).strip().lower() in ("", NONE, "null"):
        return None
    return positive_int(value)


def parse_batch_size(value: Any) -> int | str:
    """``auto`` or a positive integer."""
    if str(value).strip().lower() == "auto":
        return "auto"
    return positive_int(value)


def parse_resource(value: Any) -> str:
    """``auto``, ``none`` or ``NAME=AMOUNT`` (a Dask worker resource, e.g. ``GPU=1``)."""
    text = str(value).strip()
    if text in ("auto", NONE):
        return text
    name, sep, amount = text.partition("=")
    if not sep or not name:
        raise ValueError(f"expected auto, none or NAME=AMOUNT (e.g. GPU=1), got {value!r}")
    float(amount)
    return text


@dataclass(frozen=True)
class EmbedParams(EncoderChoice):
    """How tiles are embedded (the encoder choice first: ``encoders``, ``clip``, ``dino``)."""

    clip_checkpoint: str | None = option(
        None, "local CLIP weights file (open_clip state dict) instead of the caches",
        parse=optional_text, metavar="PATH",
    )  # fmt: skip
    dino_checkpoint: str | None = option(
        None, "local DINOv2 weights file (timm or original format) instead of the caches",
        parse=optional_text, metavar="PATH",
    )  # fmt: skip
    dino_size: int | None = option(
        None,
        "DINOv2 input size in px, a multiple of 14 (none: the encoder's own, 224 for the "
        "real ones; timm's default would be 518)",
        parse=optional_positive_int,
        metavar="PX",
    )
    dino_pooling: str = option(
        "cls", "DINOv2 embedding: cls (class token) or mean (of patch tokens)", choices=POOLINGS
    )
    device: str = option(
        "auto", "auto (CUDA if present, else CPU), cpu, cuda or cuda:N", parse=parse_device
    )
    compute_dtype: str = option(
        "auto",
        "model dtype, part of the embedding identity; auto: the dtype the folder was made "
        "with, else bfloat16 on CUDA (float16 without bf16), on CPU bfloat16 only with "
        "native BF16 (AVX512-BF16/AMX), else float32",
        choices=COMPUTE_DTYPES,
    )
    batch_size: int | str = option(
        "auto",
        "images per forward pass; auto: 32 on CPU, on CUDA the largest power of two that "
        "fits in free GPU memory (measured)",
        parse=parse_batch_size,
        metavar="N|auto",
    )
    dtype: str = option(
        "float32", "stored vector type (float16 halves the files)", choices=tuple(STORAGE_TYPES)
    )
    part_size: int = option(
        512,
        "tiles per output part and per task (a killed run loses at most the parts being computed)",
        parse=positive_int,
    )
    decode_threads: int = option(
        4,
        "PNG decoding threads per task (on a GPU they decode the next batches during the "
        "forward; on the CPU each batch just before its forward)",
        parse=positive_int,
    )
    resource: str = option(
        "auto",
        "Dask worker resource each task needs; auto: GPU=1 when the cluster's workers "
        "advertise GPU, none, or NAME=AMOUNT",
        parse=parse_resource,
        metavar="SPEC",
    )
    retry_failed: bool = option(False, "retry tiles that failed in an earlier run")
    replace: bool = option(
        False,
        "delete embeddings made with other weights/preprocessing in the encoder folder and "
        "re-embed (without it such a folder stops the run); they are deleted only after "
        "the new embedding completes",
    )
    prune: bool = option(
        False,
        "remove stored embeddings of tiles that are no longer in tiles/ (without it they "
        "are only counted in the summary)",
    )
