"""Tiles, pairs and Label Studio exports written by hand for the annotation tests."""

from __future__ import annotations

import io
import itertools
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from blindpairs.schemas import PAIRS_SCHEMA, with_metadata
from blindpairs.workspace import Workspace
from tests.tiles import Tile, write_tile_part


def png(seed: int, size: int = 32) -> bytes:
    """A seeded random RGB PNG."""
    arr = np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def write_tiles(ws: Workspace, scene: str, n: int, seed: int = 0) -> list[str]:
    """``tiles/part-<scene>.parquet`` with ``n`` tiles; returns their ids."""
    ids = [f"{scene}-t{i:03d}" for i in range(n)]
    d = 0.001
    tiles = [
        Tile(
            tid,
            (-88.0 + d * i, 43.0, -88.0 + d * (i + 1), 43.0 + d),
            png(seed * 1000 + i),
            gsd_m=0.5,
        )
        for i, tid in enumerate(ids)
    ]
    write_tile_part(ws, scene, tiles)
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
