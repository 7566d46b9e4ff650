"""Fixtures of the annotation tests: tiles, pairs and Label Studio exports written by hand."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from blindpairs.schemas import PAIRS_SCHEMA, TILES_SCHEMA, with_metadata
from blindpairs.workspace import Workspace


def png(seed: int, size: int = 32) -> bytes:
    """A seeded random RGB PNG."""
    arr = np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def polygon_wkb(lon: float, lat: float, d: float = 0.001) -> bytes:
    """A little-endian WKB square with its lower-left corner at (lon, lat)."""
    import struct

    ring = [(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d), (lon, lat)]
    out = struct.pack("<BIII", 1, 3, 1, len(ring))
    return out + b"".join(struct.pack("<dd", x, y) for x, y in ring)


def write_tiles(ws: Workspace, scene: str, n: int, seed: int = 0) -> list[str]:
    """``tiles/part-<scene>.parquet`` with ``n`` tiles; returns their ids."""
    ids = [f"{scene}-t{i:03d}" for i in range(n)]
    rows = {
        "tile_id": ids,
        "scene_id": [scene] * n,
        "scene_uri": [f"/data/{scene}.tif"] * n,
        "row_off": [32 * i for i in range(n)],
        "col_off": [0] * n,
        "width": [32] * n,
        "height": [32] * n,
        "proj:code": ["EPSG:32616"] * n,
        "proj:transform": [[1.0, 0.0, 0.0, 0.0, -1.0, 0.0]] * n,
        "bands": [[1, 2, 3]] * n,
        "gsd_m": [0.5] * n,
        "valid_fraction": [1.0] * n,
        "image": [png(seed * 1000 + i) for i in range(n)],
        "tiling": ["test"] * n,
        "geometry": [polygon_wkb(-88.0 + 0.001 * i, 43.0) for i in range(n)],
    }
    ws.tiles.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(rows, schema=TILES_SCHEMA), ws.tile_part(scene))
    return ids


def write_pairs(
    ws: Workspace, pairs: list[tuple[str, str]], random_weights: bool = False
) -> list[str]:
    """``pairs/pairs.parquet`` ranked in the given order; returns the pair ids."""
    n = len(pairs)
    ids = [f"p{i:03d}" for i in range(n)]
    rows = {
        "pair_id": ids,
        "tile_a": [a for a, _ in pairs],
        "tile_b": [b for _, b in pairs],
        "clip_sim": [0.97] * n,
        "dino_sim": [0.4] * n,
        "gap": [0.57 - 0.01 * i for i in range(n)],
        "clip_encoder": ["clip:test"] * n,
        "dino_encoder": ["dinov2:test"] * n,
        "tau_clip": [0.95] * n,
        "tau_dino": [0.6] * n,
        "rank": list(range(1, n + 1)),
    }
    meta = {
        "random_weights": random_weights,
        "clip_encoder": "clip:test",
        "dino_encoder": "dinov2:test",
        "tau_clip": 0.95,
        "tau_dino": 0.6,
    }
    ws.pairs_dir.mkdir(parents=True, exist_ok=True)
    schema = with_metadata(PAIRS_SCHEMA, meta)
    pq.write_table(pa.table(rows, schema=schema), ws.pairs)
    return ids


@pytest.fixture
def ws(tmp_path) -> Workspace:
    """A workspace with 12 tiles in two scenes and 6 ranked pairs."""
    w = Workspace(tmp_path / "ws")
    a = write_tiles(w, "sceneA", 6, seed=1)
    b = write_tiles(w, "sceneB", 6, seed=2)
    write_pairs(w, list(zip(a, b, strict=True)))
    return w


_ids = itertools.count(1000)


def result(
    category: str | None = "count",
    question: str | None = "How many buildings are there?",
    option_a: str | None = "One",
    option_b: str | None = "Two",
    answer_a: str | None = "a",
    answer_b: str | None = "b",
    verdict: str = "usable",
    reject_reason: str | None = None,
) -> list[dict[str, Any]]:
    """A Label Studio result list as the labeling config produces it."""
    out: list[dict[str, Any]] = [_choice("verdict", verdict)]
    texts = {"question": question, "option_a": option_a, "option_b": option_b}
    texts["reject_reason"] = reject_reason
    for name, value in texts.items():
        if value is not None:
            out.append(
                {
                    "from_name": name,
                    "to_name": "image_a",
                    "type": "textarea",
                    "value": {"text": [value]},
                }
            )
    for name, value in (("category", category), ("answer_a", answer_a), ("answer_b", answer_b)):
        if value is not None:
            out.append(_choice(name, value))
    return out


def _choice(name: str, value: str) -> dict[str, Any]:
    return {
        "from_name": name,
        "to_name": "image_a",
        "type": "choices",
        "value": {"choices": [value]},
    }


def annotation(
    res: list[dict[str, Any]],
    *,
    who: int = 1,
    at: str = "2025-01-01T00:00:00Z",
    cancelled: bool = False,
) -> dict[str, Any]:
    """One exported annotation."""
    return {
        "id": next(_ids),
        "completed_by": who,
        "result": res,
        "was_cancelled": cancelled,
        "created_at": at,
        "updated_at": at,
    }


@pytest.fixture
def ls_export(ws: Workspace) -> Callable[..., list[dict[str, Any]]]:
    """Build a Label Studio JSON export from ``{pair_id: [annotation, ...]}`` and tasks.json."""
    import json

    def build(annotations: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        tasks = json.loads((ws.label_studio / "tasks.json").read_text())
        out = []
        for i, t in enumerate(tasks, start=1):
            pid = t["data"]["pair_id"]
            if pid in annotations:
                out.append({"id": i, "data": t["data"], "annotations": annotations[pid]})
        return out

    return build
