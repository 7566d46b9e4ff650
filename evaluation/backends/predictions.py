"""``predictions:<file>``: score answers produced elsewhere.

A JSONL file (one object per line) or a CSV/TSV file with an ``index`` (or
``question_id``) column and the reply in ``response`` (or ``prediction``,
``output``, ``text``, ``answer``). An optional ``variant`` column
(``original``/``swapped``) holds the answers with swapped options.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from blindpairs.errors import ConfigError, InputError
from blindpairs.workspace import safe_name
from evaluation.backends.base import BackendItemError, Query, Reply
from evaluation.params import EvaluateParams

INDEX_KEYS = ("index", "Index", "question_id", "idx", "id")
RESPONSE_KEYS = ("response", "prediction", "output", "text", "answer")


def _first(row: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((row[k] for k in keys if row.get(k) is not None), None)


def _rows(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".jsonl", ".json"):
        rows = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError:
                raise InputError(str(path), f"line {n} is not JSON") from None
        return rows
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    return list(csv.DictReader(text.splitlines(), delimiter=delimiter))


def load_predictions(path: Path) -> dict[tuple[int, str], str]:
    """Replies by ``(index, variant)``."""
    out: dict[tuple[int, str], str] = {}
    for n, row in enumerate(_rows(path), start=1):
        index, response = _first(row, INDEX_KEYS), _first(row, RESPONSE_KEYS)
        if index is None or response is None:
            raise InputError(
                str(path),
                f"row {n} lacks an index ({'/'.join(INDEX_KEYS)}) or a reply "
                f"({'/'.join(RESPONSE_KEYS)})",
            )
        try:
            key = (int(index), str(row.get("variant") or "original"))
        except (TypeError, ValueError):
            raise InputError(str(path), f"row {n}: index {index!r} is not an integer") from None
        out.setdefault(key, str(response))
    return out


def source_digest(arg: str) -> str:
    """The predictions file's content hash ('' when it is missing)."""
    path = Path(arg)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else ""


class PredictionsBackend:
    """Looks each query up in a predictions file."""

    random_weights = False
    concurrency = 1
    cacheable = False  # answers cost nothing

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise ConfigError(f"predictions:{path}: file not found")
        self.id = f"predictions:{path}"
        self.cache_id = f"predictions:{source_digest(str(path))}"
        self.slug = slug(str(path), None)
        self.answers = load_predictions(path)

    def answer(self, query: Query) -> Reply:
        text = self.answers.get((query.item.index, query.variant))
        if text is None:
            raise BackendItemError(f"no prediction for index {query.item.index} ({query.variant})")
        return Reply(text=text)

    def close(self) -> None:
        pass


def slug(arg: str, params: EvaluateParams | None) -> str:
    return safe_name(f"predictions-{Path(arg).stem}")


def create(arg: str, params: EvaluateParams) -> PredictionsBackend:
    return PredictionsBackend(Path(arg))
