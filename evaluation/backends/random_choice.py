"""``random``: a seeded chance baseline (50% question, 25% pair accuracy expected).

Each answer is drawn from a generator seeded by the seed and the question's
prompt and image, so it does not depend on order or concurrency.
"""

from __future__ import annotations

import hashlib
import random

from evaluation.backends.base import Query, Reply
from evaluation.params import EvaluateParams


class RandomBackend:
    """Answers ``(a)`` or ``(b)`` at random."""

    random_weights = False
    concurrency = 1
    cacheable = False  # answers cost nothing

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.id = "random"
        self.cache_id = f"random:seed={seed}"
        self.slug = _slug(seed)

    def answer(self, query: Query) -> Reply:
        digest = hashlib.sha256(
            f"{self.seed}\x00{query.prompt}\x00{query.item.image_hash}".encode()
        ).digest()
        choice = random.Random(digest).choice("ab")
        return Reply(text=f"({choice})")

    def close(self) -> None:
        pass


def _slug(seed: int) -> str:
    return "random" if seed == 0 else f"random-seed{seed}"


def slug(arg: str, params: EvaluateParams) -> str:
    return _slug(params.seed)


def create(arg: str, params: EvaluateParams) -> RandomBackend:
    return RandomBackend(params.seed)
