"""Tile parts and embedding parts of the mine stage's tests, written directly."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from blindpairs import schemas
from blindpairs.workspace import Workspace
from tests.tiles import Tile, write_tile_part

CLIP = "clip-tiny-random"
DINO = "dinov2-tiny-random"
TILE_DEG = 0.01  # ~1.1 km at the equator


def unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def write_tiles(
    ws: Workspace, scene: str, tiles: Sequence[tuple[str, float, float]], size: float = TILE_DEG
) -> Path:
    """A tile part: ``(tile_id, lon, lat)`` of each tile's lower-left corner."""
    return write_tile_part(
        ws,
        scene,
        [
            Tile(t, (lon, lat, lon + size, lat + size), pixels=256, gsd_m=4.3)
            for t, lon, lat in tiles
        ],
    )


def write_embeddings(
    ws: Workspace,
    encoder: str,
    ids: Sequence[str],
    vectors: np.ndarray,
    part: str = "part-0.parquet",
    dtype: type = np.float32,
    **meta_overrides: object,
) -> Path:
    """An embeddings part in ``encoder``'s folder with the metadata the embed stage writes
    (vectors stored as ``dtype``: float32, or float16 as ``embed --dtype float16`` does)."""
    vectors = np.asarray(vectors, dtype=dtype)
    dim = vectors.shape[1]
    meta = {
        "encoder_id": encoder,
        "weights": "random",
        "preprocessing": "test",
        "dim": dim,
        "random_weights": True,
        **meta_overrides,
    }
    value_type = pa.from_numpy_dtype(np.dtype(dtype))
    schema = schemas.with_metadata(schemas.embeddings_schema(dim, value_type), meta)
    table = pa.table(
        {"tile_id": list(ids), "embedding": schemas.vector_array(vectors, value_type)},
        schema=schema,
    )
    folder = ws.encoder_dir(encoder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / part
    pq.write_table(table, path)
    return path


def far_tiles(prefix: str, n: int, start: int = 0) -> list[tuple[str, float, float]]:
    """``n`` tiles of one scene, 10 tile widths apart on a grid."""
    step = 10 * TILE_DEG
    return [
        (f"{prefix}{i:05d}", 10.0 + (i % 100) * step, 45.0 + (i // 100) * step)
        for i in range(start, start + n)
    ]
