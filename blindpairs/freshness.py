"""Whether a stage's outputs are up to date: one mechanism for every stage.

A stage computes a :func:`fingerprint` of what decides its outputs (options, and its
inputs: their :func:`file_stats` or their :func:`content_digest`), and records it in
a JSON :class:`Stamp` beside the outputs once they are complete. A later run whose
fingerprint equals the stamp's, with every output still there, has nothing to do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FINGERPRINT = "fingerprint"  # the stamp's key unless a stage keeps an older name


def fingerprint(value: Any, length: int = 64) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``value`` as canonical JSON."""
    blob = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


def content_digest(*blobs: bytes) -> str:
    """A SHA-256 over the SHA-256 of each of ``blobs`` (inputs hashed by content)."""
    h = hashlib.sha256()
    for blob in blobs:
        h.update(hashlib.sha256(blob).digest())
    return h.hexdigest()


def file_digest(path: Path) -> str | None:
    """The SHA-1 of a file's bytes, or None when it cannot be read."""
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError:
        return None


def file_stats(paths: Iterable[Path], root: Path | None = None) -> list[list[Any]]:
    """``[name, size, mtime_ns]`` per path (``[name, None]`` when absent); names relative to
    ``root``, or the bare file name without one."""
    out: list[list[Any]] = []
    for path in paths:
        name = str(path.relative_to(root)) if root is not None else path.name
        try:
            st = path.stat()
        except OSError:
            out.append([name, None])
            continue
        out.append([name, st.st_size, st.st_mtime_ns])
    return out


@dataclass(frozen=True)
class Stamp:
    """The JSON file at ``path`` that records what a stage's ``outputs`` were made from.

    ``key`` names the fingerprint's entry in it (``fingerprint`` unless the file is also
    an output with its own layout, such as a run's ``scores.json``).
    """

    path: Path
    outputs: tuple[Path, ...] = ()
    key: str = FINGERPRINT

    def read(self) -> dict[str, Any] | None:
        """The stamp's content, or None when it is absent or not a JSON object."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def is_fresh(self, digest: str, expected: Mapping[str, Any] | None = None) -> bool:
        """The stamp holds ``digest`` (and every ``expected`` entry) and every output exists."""
        data = self.read()
        if data is None or data.get(self.key) != digest:
            return False
        if any(data.get(k) != v for k, v in (expected or {}).items()):
            return False
        return all(p.is_file() for p in self.outputs)
