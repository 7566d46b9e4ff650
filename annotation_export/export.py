"""The export stage: the best new pairs as Label Studio tasks, images and config."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotation_export.inputs import read_pairs, read_tile_rows, relative_to
from annotation_export.labeling_config import labeling_config
from annotation_export.params import ExportParams
from annotation_export.tasks import build_task, image_file, local_files_url, read_tasks
from blindpairs import atomic, lock
from blindpairs.errors import ConfigError
from blindpairs.workspace import Workspace

if TYPE_CHECKING:
    from annotation_export.push import PushSummary
    from blindpairs.compute import Compute

log = logging.getLogger(__name__)


@dataclass
class ExportSummary:
    """What one export did."""

    added: list[str] = field(default_factory=list)
    already: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    total_tasks: int = 0
    remaining: int = 0
    pushed: PushSummary | None = None  # what --push did (None without --push)


def tasks_path(ws: Workspace) -> Path:
    return ws.tasks


def meta_path(ws: Workspace) -> Path:
    return ws.label_studio / "export.json"


def read_meta(ws: Workspace) -> dict[str, Any]:
    """``export.json`` of the last export (``{}`` when there is none or it is unreadable)."""
    try:
        meta = json.loads(meta_path(ws).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def failures_path(ws: Workspace) -> Path:
    return ws.label_studio / "_failures.json"


def document_root(ws: Workspace, params: ExportParams) -> Path:
    """The folder Label Studio serves files from; it must contain the workspace."""
    root = Path(params.document_root) if params.document_root else ws.root
    if relative_to(ws.root, root) is None:
        raise ConfigError(
            f"--document-root {root} does not contain the workspace {ws.root}; "
            "pick a folder above the workspace (or leave it unset)"
        )
    return root.resolve()


def _check_png(data: bytes) -> None:
    from PIL import Image

    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("tile image is not PNG")
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.verify()
    except Exception as exc:  # PIL raises many types for corrupt data
        raise ValueError(f"tile image does not decode: {exc}") from None


def _write_image(ws: Workspace, tile_id: str, data: bytes) -> Path:
    path = image_file(ws, tile_id)
    if not (path.is_file() and path.stat().st_size == len(data)):
        atomic.write_bytes(path, data)
    return path


def _export_pair(
    ws: Workspace, pair: dict, tiles: dict[str, dict], root: Path, pairs_meta: dict
) -> dict[str, Any]:
    paths = []
    for key in ("tile_a", "tile_b"):
        tile = tiles.get(pair[key])
        if tile is None:
            raise ValueError(f"{key} {pair[key]!r} is not in the workspace's tiles")
        _check_png(tile["image"])
    for key in ("tile_a", "tile_b"):
        paths.append(_write_image(ws, pair[key], tiles[pair[key]]["image"]))
    urls = (local_files_url(paths[0], root), local_files_url(paths[1], root))
    return build_task(pair, tiles, urls, pairs_meta)


@lock.locked("export")
def export_workspace(ws: Workspace, params: ExportParams) -> ExportSummary:
    """Add up to ``params.budget`` new pairs (best first) to ``annotation/label_studio/``."""
    root = document_root(ws, params)
    pairs, pairs_meta = read_pairs(ws)
    atomic.clean_stale_temporaries(ws.label_studio)
    atomic.clean_stale_temporaries(ws.label_studio / "images")
    tasks = read_tasks(tasks_path(ws))
    exported = {t["data"]["pair_id"] for t in tasks}
    # Sticky: once random-weight pairs were exported, the export says so for good.
    random_weights = (
        bool(pairs_meta.get("random_weights"))
        or bool(read_meta(ws).get("random_weights"))
        or any(t["data"].get("random_weights") for t in tasks)
    )
    summary = ExportSummary(already=len(exported))
    new = [p for p in pairs if p["pair_id"] not in exported]
    # Read tiles for a margin above the budget so a few bad pairs do not leave it unspent.
    candidates = new[: params.budget * 2 + 10]
    tile_ids = {p[k] for p in candidates for k in ("tile_a", "tile_b")}
    tiles = read_tile_rows(ws, tile_ids, with_image=True)
    for pair in candidates:
        if len(summary.added) >= params.budget:
            break
        try:
            tasks.append(_export_pair(ws, pair, tiles, root, pairs_meta))
        except (ValueError, OSError) as exc:
            summary.failed[pair["pair_id"]] = str(exc)
            log.warning("pair %s not exported: %s", pair["pair_id"], exc)
            continue
        summary.added.append(pair["pair_id"])
    summary.total_tasks = len(tasks)
    summary.remaining = len(new) - len(summary.added) - len(summary.failed)
    atomic.write_text(ws.label_studio / "labeling_config.xml", labeling_config())
    meta = {"document_root": str(root), "pairs": pairs_meta, "random_weights": random_weights}
    atomic.write_json(meta_path(ws), meta)
    atomic.write_json(
        failures_path(ws), [{"pair_id": k, "reason": v} for k, v in summary.failed.items()]
    )
    if summary.added or not tasks_path(ws).is_file():
        atomic.write_json(tasks_path(ws), tasks)
    return summary


def run(workspace: Workspace | str | Path, params: ExportParams, compute: Compute) -> ExportSummary:
    """The export stage: the best pairs not exported yet as Label Studio tasks, pushed to
    ``params.push`` when given (its token is checked before any work). ``compute`` is
    unused: export runs in this process."""
    from annotation_export.client import api_token
    from annotation_export.push import push_tasks

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    if params.push:
        api_token(params.token_env)  # fail before any work when the token is missing
    summary = export_workspace(ws, params)
    if params.push:
        summary.pushed = push_tasks(ws, params.push, params.project_title, params.token_env)
    return summary
