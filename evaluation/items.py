"""The typed benchmark item every loader produces and every backend answers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

CHOICES = ("a", "b")


@dataclass(frozen=True)
class BenchItem:
    """One question about one image; items ``2k-1`` and ``2k`` form pair ``k``."""

    index: int
    image: bytes = field(repr=False)
    question: str
    option_a: str
    option_b: str
    answer: str  # 'a' or 'b'
    category: str = ""
    pair_id: str = ""
    tile_id: str = ""

    @property
    def pair_number(self) -> int:
        """MMVP pair number: indexes 2k-1 and 2k are pair k."""
        return (self.index + 1) // 2

    @property
    def image_hash(self) -> str:
        return hashlib.sha256(self.image).hexdigest()

    def swapped(self) -> BenchItem:
        """The same question with the two options exchanged (and the answer with them)."""
        return BenchItem(
            index=self.index,
            image=self.image,
            question=self.question,
            option_a=self.option_b,
            option_b=self.option_a,
            answer=other_choice(self.answer),
            category=self.category,
            pair_id=self.pair_id,
            tile_id=self.tile_id,
        )


@dataclass(frozen=True)
class LoadedBenchmark:
    """A benchmark read from disk: its items and the rows that could not be used."""

    source: str
    format: str
    items: tuple[BenchItem, ...]
    problems: tuple[tuple[str, str], ...] = ()  # (row reference, reason)
    index_base: int = 1  # 1: pairs 2k-1, 2k (MMVP); 0: pairs 2k, 2k+1
    random_weights: bool = False  # mined with random-weight encoders (benchmark metadata)

    def fingerprint(self) -> str:
        """A hash of everything that decides the scores (questions, options, answers, images)."""
        h = hashlib.sha256()
        for it in self.items:
            for part in (str(it.index), it.question, it.option_a, it.option_b, it.answer):
                h.update(part.encode("utf-8") + b"\x00")
            h.update(it.image_hash.encode())
        return h.hexdigest()[:16]


def other_choice(choice: str) -> str:
    """'a' -> 'b' and 'b' -> 'a'."""
    return "b" if choice == "a" else "a"
