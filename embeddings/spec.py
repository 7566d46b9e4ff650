"""What the registry knows about an encoder before loading anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EncoderSpec:
    """One registered encoder.

    ``arch`` is the open_clip model name or the timm architecture;
    ``pretrained`` the weights tag (``None``: seeded random weights);
    ``config_tag`` the pretrained config whose preprocessing a random encoder
    borrows; ``overrides`` small-model settings passed to the model builder.
    """

    encoder_id: str
    family: str
    arch: str
    pretrained: str | None
    dim: int
    image_size: int
    config_tag: str | None = None
    overrides: tuple[tuple[str, Any], ...] = ()
    seed: int = 0
    note: str = ""

    @property
    def random_weights(self) -> bool:
        return self.pretrained is None

    @property
    def default_weights(self) -> str:
        """The weights tag when no checkpoint file is given."""
        return self.pretrained if self.pretrained else f"random-seed{self.seed}"


@dataclass(frozen=True)
class EncoderOptions:
    """Per-run choices that change the embedding (so they are part of its identity).

    ``checkpoint``: local weights file instead of the pretrained tag;
    ``image_size``: model input side (DINOv2 only; multiple of 14);
    ``pooling``: ``cls`` or ``mean`` patch tokens (DINOv2 only).
    """

    checkpoint: str | None = None
    image_size: int | None = None
    pooling: str | None = None
