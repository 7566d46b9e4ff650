"""One input file of the report: its value, or why there is none (absent or unreadable)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pyarrow as pa

T = TypeVar("T")
log = logging.getLogger(__name__)

# What a reader may raise on a bad file; anything else is a bug and propagates.
READ_ERRORS = (OSError, pa.ArrowException, ValueError, KeyError, TypeError, IndexError)


@dataclass(frozen=True)
class Source(Generic[T]):
    """What was read from ``path``: ``value``, or ``error`` when unreadable, or neither."""

    path: Path
    value: T | None = None
    error: str | None = None

    @property
    def missing(self) -> bool:
        """The file does not exist (its stage has not run yet)."""
        return self.value is None and self.error is None


def load(path: Path, reader: Callable[[Path], T]) -> Source[T]:
    """Read ``path`` with ``reader``; a missing file or a read error is kept, not raised."""
    if not path.exists():
        return Source(path)
    try:
        return Source(path, reader(path))
    except READ_ERRORS as exc:
        log.warning("%s: unreadable, left out of the report (%s)", path, exc)
        return Source(path, error=f"{type(exc).__name__}: {exc}")


def read_json(path: Path) -> Any:
    """Parse a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))
