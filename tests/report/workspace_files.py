"""A small workspace with every stage's output, written directly with the schemas."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from blindpairs import schemas
from blindpairs.cli import main
from blindpairs.schemas import BENCHMARK_COLUMNS
from blindpairs.workspace import Workspace
from tests.tiles import Tile, write_tile_part

XSS = "<script>alert(1)</script>"
MODEL_XSS = '<img src=x onerror="alert(2)">'
SCENES = {"alpha": (10.0, 45.0), "beta": (-3.0, 40.0)}  # scene -> lon/lat of its corner
TILE_DEG = 0.01
TAU_CLIP, TAU_DINO = 0.95, 0.6


def png(seed: int, size: int = 40) -> bytes:
    """A small seeded RGB image."""
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def tile_id(scene: str, row: int, col: int) -> str:
    return f"{scene}-r{row}-c{col}-abc"


def tile_box(scene: str, row: int, col: int) -> tuple[float, float, float, float]:
    lon, lat = SCENES[scene]
    x0, y1 = lon + col * TILE_DEG, lat - row * TILE_DEG
    return x0, y1 - TILE_DEG, x0 + TILE_DEG, y1


def write_tiles(ws: Path, images: dict[str, bytes] | None = None) -> None:
    """Two scenes of 3 x 3 tiles each; ``images`` replaces some tiles' PNG bytes."""
    images = images or {}
    for s, scene in enumerate(SCENES):
        tiles = [
            Tile(
                tile_id(scene, r, c),
                tile_box(scene, r, c),
                images.get(tile_id(scene, r, c), png(100 * s + 3 * r + c)),
                pixels=40,
                gsd_m=25.0,
            )
            for r in range(3)
            for c in range(3)
        ]
        write_tile_part(ws, scene, tiles)


PAIRS = [  # (tile_a, tile_b, clip, dino)
    (tile_id("alpha", 0, 0), tile_id("beta", 1, 1), 0.97, 0.30),
    (tile_id("alpha", 2, 2), tile_id("beta", 0, 2), 0.96, 0.45),
    (tile_id("alpha", 0, 2), tile_id("alpha", 2, 0), 0.955, 0.55),
]


def write_pairs(ws: Path, random_weights: bool = True) -> None:
    rows = [
        {
            "pair_id": f"pair{k}",
            "tile_a": a,
            "tile_b": b,
            "clip_sim": c,
            "dino_sim": d,
            "gap": c - d,
            "clip_encoder": "clip-tiny-random",
            "dino_encoder": "dinov2-tiny-random",
            "tau_clip": TAU_CLIP,
            "tau_dino": TAU_DINO,
            "rank": k,
        }
        for k, (a, b, c, d) in enumerate(PAIRS, start=1)
    ]
    meta = {
        "random_weights": random_weights,
        "tau_clip": TAU_CLIP,
        "tau_dino": TAU_DINO,
        "clip_encoder": "clip-tiny-random",
        "dino_encoder": "dinov2-tiny-random",
    }
    schema = schemas.with_metadata(schemas.PAIRS_SCHEMA, meta)
    (ws / "pairs").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), ws / "pairs" / "pairs.parquet")
    grid = {
        "tau_clip": [0.94, 0.95, 0.96],
        "tau_dino": [0.5, 0.6],
        "pairs": [[4, 9], [2, 3], [1, 2]],
        "pairs_with_cap": [[3, 5], [2, 3], [1, 2]],
        "cap": 1,
        "tiles": 18,
        "random_weights": random_weights,
    }
    (ws / "pairs" / "yield.json").write_text(json.dumps(grid))


def candidates(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.uniform(0.93, 0.99, n), rng.uniform(0.2, 0.8, n)


def write_candidates(ws: Path) -> None:
    clip, dino = candidates()
    ids = [tile_id("alpha", i % 3, i // 3 % 3) for i in range(len(clip))]
    table = pa.table(
        {
            "tile_a": ids,
            "tile_b": ids[::-1],
            "clip_sim": pa.array(clip, pa.float32()),
            "dino_sim": pa.array(dino, pa.float32()),
        }
    )
    pq.write_table(table, Workspace(ws).candidates)


def bench_rows() -> list[dict[str, Any]]:
    """Two items per mined pair; the first question carries markup."""
    rows = []
    for k, (a, b, _, _) in enumerate(PAIRS, start=1):
        question = f"Is there a road? {XSS}" if k == 1 else "Is the water visible?"
        for j, tid in enumerate((a, b)):
            rows.append(
                {
                    "index": 2 * k - 1 + j,
                    "pair_id": f"pair{k}",
                    "image": png(500 + 2 * k + j),
                    "question": question,
                    "option_a": "yes <b>bold</b>" if k == 1 else "yes",
                    "option_b": "no",
                    "answer": "a" if j == 0 else "b",
                    "category": ("state & condition", "color", "color")[k - 1],
                    "tile_id": tid,
                }
            )
    return rows


def write_benchmark(ws: Path) -> None:
    rows = bench_rows()
    table = pa.Table.from_pylist([{c: r[c] for c in BENCHMARK_COLUMNS} for r in rows])
    meta = {b"blindpairs": json.dumps({"random_weights": True}).encode()}
    (ws / "benchmark").mkdir(parents=True, exist_ok=True)
    pq.write_table(table.replace_schema_metadata(meta), ws / "benchmark" / "benchmark.parquet")


def write_evaluations(ws: Path) -> None:
    """Real evaluate runs: the random baseline and a predictions file with markup in answers."""
    answers = ws / "answers.jsonl"
    replies = {1: "(a)", 2: f"(b) {MODEL_XSS}", 3: "(a)", 4: "(a)", 5: "I cannot tell", 6: "b"}
    answers.write_text(
        "".join(json.dumps({"index": i, "response": r}) + "\n" for i, r in replies.items())
    )
    code = main(["evaluate", "-w", str(ws), "-q", "--models", f"random,predictions:{answers}"])
    assert code == 0
