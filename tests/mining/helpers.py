"""Helpers shared by the tile stage's tests."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from PIL import Image

from blindpairs.compute import Compute
from blindpairs.schemas import read_metadata
from blindpairs.workspace import Workspace
from mining.params import TileParams
from mining.stage import TileSummary, run


def tile(ws: Path, inputs, quiet: bool = True, **params) -> TileSummary:
    """Run the tile stage on ``inputs`` with small tiles by default."""
    params.setdefault("size", 64)
    params["scenes"] = tuple(str(i) for i in inputs)
    return run(Workspace(ws), TileParams(**params), Compute(workers=2, quiet=quiet))


def rows(ws: Path, scene_id: str) -> list[dict]:
    return pq.read_table(Workspace(ws).tile_part(scene_id)).to_pylist()


def meta(ws: Path, scene_id: str) -> dict:
    return read_metadata(Workspace(ws).tile_part(scene_id))


def pixels(row: dict) -> np.ndarray:
    """The tile image as (3, h, w) uint8."""
    return np.asarray(Image.open(io.BytesIO(row["image"])).convert("RGB")).transpose(2, 0, 1)
