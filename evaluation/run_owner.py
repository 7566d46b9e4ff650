"""Which model a result folder belongs to, so that two model ids with one default
folder name (``predictions:pa/answers.jsonl`` and ``predictions:pb/answers.jsonl``)
never overwrite each other's results.

Every run records its model id in ``<run>/model.json``; folders of runs made before
that are told by the ``model`` of their ``scores.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from blindpairs import atomic
from blindpairs.errors import ConfigError
from blindpairs.terminal import terminal_safe
from blindpairs.workspace import SCORES_FILE

MARKER = "model.json"


def _same(a: str, b: str) -> bool:
    """Equal model ids; a predictions path as the backend writes it (``./x`` is ``x``)."""

    def norm(model_id: str) -> str:
        prefix, _, arg = model_id.partition(":")
        arg = arg.strip()
        return f"{prefix}:{Path(arg)}" if prefix == "predictions" and arg else model_id

    return norm(a) == norm(b)


def recorded_model(folder: Path) -> str | None:
    """The model id whose results ``folder`` holds, or None when it holds none."""
    for name in (MARKER, SCORES_FILE):
        try:
            model = json.loads((folder / name).read_text(encoding="utf-8")).get("model")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(model, str) and model:
            return model
    return None


def check_default_folder(folder: Path, model_id: str) -> None:
    """ConfigError when ``folder`` (named from ``model_id`` by default) holds another model."""
    other = recorded_model(folder)
    if other is not None and not _same(other, model_id):
        raise ConfigError(
            f"{terminal_safe(model_id)}: its default result folder {folder} holds the results "
            f"of another model ({terminal_safe(other)}); pass --run-name NAME to keep both"
        )


def record_model(folder: Path, model_id: str) -> None:
    """Record that ``folder`` holds ``model_id``'s results (before anything is written)."""
    if recorded_model(folder) != model_id or not (folder / MARKER).exists():
        folder.mkdir(parents=True, exist_ok=True)
        atomic.write_json(folder / MARKER, {"model": model_id})
