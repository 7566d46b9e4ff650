"""``clip:<encoder_id>``: a zero-shot baseline that measures the encoder's own blindness.

Each question is answered on its own image: both options (as ``--clip-text``,
default ``"{question} {option}"``) are embedded with the CLIP text tower and the
option whose text is closer to the image embedding is the answer (text
retrieval for one image). This is *not* MMVP-VLM (MMVP's
``scripts/evaluate_vlm.py``), which goes the other way: it writes one statement
per image of a pair ("a photo of <statement>") and asks which of the pair's two
images each statement matches best (image retrieval for one statement), on its
own statement set. Scores here are therefore comparable with the MLLMs on this
benchmark (same questions, same pair accuracy), not with MMVP-VLM's table.
The encoder comes from the embed stage's registry
(``embeddings.registry.create_encoder``), imported lazily: the one place this
stage uses another stage's code.
"""

from __future__ import annotations

import io
import time
from typing import Any

import numpy as np

from blindpairs.errors import ConfigError
from blindpairs.workspace import safe_name
from evaluation.backends.base import Query, Reply
from evaluation.params import EvaluateParams


def load_encoder(encoder_id: str, device: str = "auto") -> Any:
    """``embeddings.registry.create_encoder(encoder_id)``, with a clear error."""
    try:
        from embeddings.registry import create_encoder
    except ImportError as exc:
        raise ConfigError(
            f"clip:{encoder_id}: the embed stage's encoder registry is missing ({exc})"
        ) from None
    try:
        encoder = create_encoder(encoder_id, device=device)
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"clip:{encoder_id}: {exc}") from None
    if not hasattr(encoder, "encode_texts"):
        raise ConfigError(f"clip:{encoder_id}: encoder has no text tower (encode_texts)")
    return encoder


class ClipBackend:
    """Picks the option whose text embedding is closest to the image embedding."""

    cacheable = True
    concurrency = 1

    def __init__(self, encoder_id: str, params: EvaluateParams) -> None:
        if "{option}" not in params.clip_text:
            raise ConfigError("--clip-text must contain {option} (and may contain {question})")
        self.id = f"clip:{encoder_id}"
        self.text_template = params.clip_text
        self.cache_id = f"{self.id}|{self.text_template}"
        self.slug = slug(encoder_id, params)
        self.encoder = load_encoder(encoder_id, params.device)
        self.random_weights = bool(
            getattr(self.encoder, "random_weights", False) or "random" in encoder_id
        )

    def answer(self, query: Query) -> Reply:
        from PIL import Image

        start = time.monotonic()
        item = query.item
        image = Image.open(io.BytesIO(item.image)).convert("RGB")
        texts = [
            self.text_template.format(question=item.question, option=opt)
            for opt in (item.option_a, item.option_b)
        ]
        img = np.asarray(self.encoder.encode_images([image]), dtype=np.float32)[0]
        txt = np.asarray(self.encoder.encode_texts(texts), dtype=np.float32)
        sims = txt @ img
        choice = "a" if sims[0] >= sims[1] else "b"
        return Reply(
            text=f"({choice})",
            latency_s=time.monotonic() - start,
            extra={"similarities": [round(float(s), 6) for s in sims]},
        )

    def close(self) -> None:
        self.encoder = None


def slug(arg: str, params: EvaluateParams) -> str:
    return safe_name(f"clip:{arg}")


def create(arg: str, params: EvaluateParams) -> ClipBackend:
    return ClipBackend(arg, params)
