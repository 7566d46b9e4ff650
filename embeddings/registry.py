"""The encoder registry: encoder id -> spec -> family loader (like timm's model registry).

>>> enc = create_encoder("clip-tiny-random")          # doctest: +SKIP
>>> enc.encode_images(images).shape                    # doctest: +SKIP
(n, 32)

Ids: ``clip:<open_clip model>/<tag>``, ``dinov2:<timm model>.<tag>``, and the
tiny seeded random encoders (real architectures, small configs) whose ids end
in ``-random`` and whose outputs always carry ``random_weights=true``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from blindpairs.errors import ConfigError
from blindpairs.schemas import ENCODER_SETS  # noqa: F401 - re-exported for the CLI
from embeddings import clip, dinov2
from embeddings.encoder import ImageEncoder
from embeddings.spec import EncoderOptions, EncoderSpec


@dataclass(frozen=True)
class Family:
    """How one model family is described and loaded."""

    name: str
    library: str
    preprocessing: Callable[[EncoderSpec, EncoderOptions], dict[str, Any]]
    weights_tag: Callable[[EncoderSpec, EncoderOptions], str]
    load: Callable[[EncoderSpec, EncoderOptions, str | None, str | None], ImageEncoder]


FAMILIES: dict[str, Family] = {
    "clip": Family("clip", "open_clip", clip.preprocessing, clip.weights_tag, clip.load),
    "dinov2": Family("dinov2", "timm", dinov2.preprocessing, dinov2.weights_tag, dinov2.load),
}

_TINY_CLIP = (
    ("embed_dim", 32),
    (
        "vision_cfg",
        {"image_size": 64, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
    ),
    ("text_cfg", {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2}),
)
# LayerScale starts at 1 (not 1e-5) so random blocks change the class token per image.
_TINY_DINO = (("depth", 2), ("embed_dim", 64), ("num_heads", 2), ("init_values", 1.0))

_REGISTRY: dict[str, EncoderSpec] = {}


def register(spec: EncoderSpec) -> EncoderSpec:
    """Add ``spec`` to the registry (its family must be one of :data:`FAMILIES`)."""
    if spec.family not in FAMILIES:
        raise ConfigError(f"{spec.encoder_id}: unknown family {spec.family!r}")
    _REGISTRY[spec.encoder_id] = spec
    return spec


for _spec in (
    EncoderSpec("clip:ViT-L-14/openai", "clip", "ViT-L-14", "openai", 768, 224, note="paper"),
    EncoderSpec(
        "clip:ViT-B-32/laion2b_s34b_b79k", "clip", "ViT-B-32", "laion2b_s34b_b79k", 512, 224,
        note="small",
    ),
    EncoderSpec(
        "clip-tiny-random", "clip", "ViT-B-32", None, 32, 64, overrides=_TINY_CLIP, note="tiny"
    ),
    EncoderSpec(
        "dinov2:vit_large_patch14_dinov2.lvd142m", "dinov2", "vit_large_patch14_dinov2",
        "lvd142m", 1024, 224, note="paper",
    ),
    EncoderSpec(
        "dinov2:vit_small_patch14_dinov2.lvd142m", "dinov2", "vit_small_patch14_dinov2",
        "lvd142m", 384, 224, note="small",
    ),
    EncoderSpec(
        "dinov2-tiny-random", "dinov2", "vit_small_patch14_dinov2", None, 64, 56,
        config_tag="lvd142m", overrides=_TINY_DINO, note="tiny",
    ),
):  # fmt: skip
    register(_spec)

# Named (clip, dino) pairs for --encoders.


def list_encoders(family: str | None = None) -> list[str]:
    """Registered encoder ids (of one family, if given), in registration order."""
    return [k for k, s in _REGISTRY.items() if family is None or s.family == family]


def get_spec(encoder_id: str) -> EncoderSpec:
    """The spec of ``encoder_id``; an unknown id fails with the list of known ones."""
    try:
        return _REGISTRY[encoder_id]
    except KeyError:
        known = ", ".join(list_encoders())
        raise ConfigError(f"unknown encoder {encoder_id!r}; known encoders: {known}") from None


def describe(encoder_id: str, options: EncoderOptions | None = None) -> dict[str, Any]:
    """The embedding identity (``EMBEDDING_META_KEYS``) without loading the model."""
    spec = get_spec(encoder_id)
    options = options or EncoderOptions()
    family = FAMILIES[spec.family]
    return {
        "encoder_id": spec.encoder_id,
        "weights": family.weights_tag(spec, options),
        "preprocessing": family.preprocessing(spec, options),
        "dim": spec.dim,
        "random_weights": spec.random_weights,
    }


def create_encoder(
    encoder_id: str,
    *,
    checkpoint: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    image_size: int | None = None,
    pooling: str | None = None,
) -> ImageEncoder:
    """Load a registered encoder.

    ``checkpoint``: local weights file (else the usual caches / download);
    ``device``: ``auto`` (default), ``cpu``, ``cuda[:N]``; ``dtype``: compute
    dtype ``auto`` (default), ``float32``, ``bfloat16``, ``float16``;
    ``image_size`` / ``pooling``: DINOv2 input size and ``cls``/``mean``.
    CLIP encoders also have ``encode_texts``.
    """
    spec = get_spec(encoder_id)
    options = EncoderOptions(checkpoint=checkpoint, image_size=image_size, pooling=pooling)
    return FAMILIES[spec.family].load(spec, options, device, dtype)
