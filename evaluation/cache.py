"""The response cache: an append-only JSONL file, one fsynced line per answer.

A line is appended (and fsynced) as soon as an answer arrives, so a crash
loses at most the answers in flight. Reading keeps the first record of each
key and skips a torn last line, so a re-run never pays twice for an answered
question and never holds two answers for one. Failures are not cached: a
re-run asks again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def cache_key(model: str, prompt_version: str, prompt: str, image_hash: str) -> str:
    """The key of one answer: model, prompt version, prompt text and image hash."""
    h = hashlib.sha256()
    for part in (model, prompt_version, prompt, image_hash):
        h.update(part.encode("utf-8") + b"\x00")
    return h.hexdigest()


class ResponseCache:
    """Answers by key, backed by ``path`` (created on first write)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}
        self.torn_lines = 0
        self._tail_checked = False
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            for raw in fh:
                try:
                    record = json.loads(raw)
                    key = record["key"]
                except (ValueError, KeyError, TypeError):
                    self.torn_lines += 1  # a line cut short by a crash
                    continue
                self._records.setdefault(key, record)
        if self.torn_lines:
            log.warning("%s: skipped %d unreadable line(s)", self.path, self.torn_lines)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: str) -> bool:
        return key in self._records

    def get(self, key: str) -> dict[str, Any] | None:
        return self._records.get(key)

    def put(self, key: str, record: dict[str, Any]) -> bool:
        """Append ``record`` under ``key`` unless the key is there; True when written."""
        record = {**record, "key": key}
        line = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
        with self._lock:
            if key in self._records:
                return False
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab") as fh:
                if not self._tail_checked and fh.tell() > 0 and not _ends_with_newline(self.path):
                    fh.write(b"\n")  # never glue a new line onto a torn one
                self._tail_checked = True
                fh.write(line.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
            self._records[key] = record
        return True


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"
