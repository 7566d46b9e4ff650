"""What every model backend provides, and the errors it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from blindpairs.errors import BlindpairsError
from evaluation.items import BenchItem


class BackendItemError(BlindpairsError):
    """One question could not be answered (after retries); the others go on.

    The message never contains a secret (backends redact it).
    """


class BackendFatal(BlindpairsError):
    """The backend cannot answer anything (e.g. the key is refused): stop the run."""


@dataclass(frozen=True)
class Query:
    """One question as shown to a model: the item (options maybe swapped) and its prompt."""

    item: BenchItem
    prompt: str
    variant: str = "original"


@dataclass(frozen=True)
class Reply:
    """A model's answer text and what it cost."""

    text: str
    latency_s: float = 0.0
    attempts: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """A model that answers queries; created by :func:`evaluation.backends.create_backend`."""

    id: str  # the id given, e.g. "openai:gpt-4o"
    cache_id: str  # identity in the response cache (adds seeds, file hashes, ...)
    slug: str  # folder name under <ws>/evaluation/
    concurrency: int  # how many queries may run at once
    random_weights: bool  # a test/smoke model whose scores mean nothing
    cacheable: bool  # whether answers are worth keeping in the response cache

    def answer(self, query: Query) -> Reply:
        """Answer one query or raise BackendItemError / BackendFatal."""
        ...

    def close(self) -> None: ...
