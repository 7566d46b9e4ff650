"""Label Studio tasks: one per pair, with the pair's metadata and its two image URLs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from blindpairs.errors import InputError
from blindpairs.footprints import format_lonlat, wkb_center
from blindpairs.workspace import Workspace, safe_name

LOCAL_FILES_PREFIX = "/data/local-files/?d="


def image_file(ws: Workspace, tile_id: str) -> Path:
    """Where the exported PNG of ``tile_id`` lives."""
    return ws.label_studio / "images" / f"{safe_name(tile_id)}.png"


def local_files_url(path: Path, document_root: Path) -> str:
    """The URL Label Studio serves ``path`` under (local files serving)."""
    rel = path.resolve().relative_to(document_root.resolve())
    return LOCAL_FILES_PREFIX + quote(rel.as_posix(), safe="/")


def url_to_relative_path(url: str) -> str:
    """The document-root-relative path of a local-files URL, or ``url`` itself (a path)."""
    if "/data/local-files/" in url:
        values = parse_qs(urlsplit(url).query).get("d")
        if not values:
            raise ValueError(f"local-files URL without a d= path: {url!r}")
        return values[0]
    if "://" in url:
        raise ValueError(f"not a local file of the workspace: {url!r}")
    return url


def _side(tile: dict[str, Any], suffix: str) -> dict[str, Any]:
    center = wkb_center(tile["geometry"]) if tile.get("geometry") else None
    return {
        f"scene_{suffix}": tile.get("scene_id"),
        f"scene_uri_{suffix}": tile.get("scene_uri"),
        f"gsd_m_{suffix}": tile.get("gsd_m"),
        f"lon_{suffix}": None if center is None else round(center[0], 6),
        f"lat_{suffix}": None if center is None else round(center[1], 6),
        f"location_{suffix}": format_lonlat(center),
    }


def build_task(
    pair: dict[str, Any],
    tiles: dict[str, dict[str, Any]],
    urls: tuple[str, str],
    pairs_meta: dict[str, Any],
) -> dict[str, Any]:
    """One task: ``{"data": {...}}`` with the keys the labeling config and ingest use.

    The mining facts (encoders, weights, thresholds, random weights) are stored
    per task, so the published card describes the pairs actually published.
    """
    random_weights = bool(pairs_meta.get("random_weights"))
    a, b = tiles[pair["tile_a"]], tiles[pair["tile_b"]]
    data: dict[str, Any] = {
        "pair_id": pair["pair_id"],
        "tile_a": pair["tile_a"],
        "tile_b": pair["tile_b"],
        "image_a": urls[0],
        "image_b": urls[1],
    }
    for key in ("clip_sim", "dino_sim", "gap", "tau_clip", "tau_dino"):
        value = pair.get(key)  # float32 in the file: rounded so it reads as written
        data[key] = None if value is None else round(float(value), 4)
    for key in ("rank", "clip_encoder", "dino_encoder"):
        data[key] = pair.get(key)
    for key in ("clip_weights", "dino_weights"):
        value = pairs_meta.get(key)
        data[key] = None if value is None else str(value)
    data.update(_side(a, "a"))
    data.update(_side(b, "b"))
    data["random_weights"] = bool(random_weights)
    warn = " | RANDOM-WEIGHT ENCODERS (test data)" if random_weights else ""
    data["info"] = (
        f"CLIP {data['clip_sim']} vs DINOv2 {data['dino_sim']} (gap {data['gap']}) | "
        f"A: {data['scene_a']} {data['location_a']} | B: {data['scene_b']} {data['location_b']}"
        f"{warn}"
    )
    return {"data": data}


def read_tasks(path: Path) -> list[dict[str, Any]]:
    """The tasks of an earlier export (``[]`` when there is none)."""
    if not path.is_file():
        return []
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            str(path), f"not readable JSON: {exc}; delete it to export afresh"
        ) from None
    if not isinstance(tasks, list) or not all(
        isinstance(t, dict) and isinstance(t.get("data"), dict) and t["data"].get("pair_id")
        for t in tasks
    ):
        raise InputError(str(path), "expected a list of tasks each with data.pair_id")
    return tasks
