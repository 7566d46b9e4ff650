"""The one builder of tile parts over ``TILES_SCHEMA`` that every stage's tests share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from blindpairs import schemas
from blindpairs.workspace import Workspace


@dataclass(frozen=True)
class Tile:
    """One tile of a test part: its id, its footprint box in lon/lat and its image bytes."""

    tile_id: str
    bounds: tuple[float, float, float, float]  # lon0, lat0, lon1, lat1
    image: bytes = b"png"
    pixels: int = 32  # width and height of the source window
    gsd_m: float = 1.0


def tile_part(scene: str, tiles: Sequence[Tile]) -> pa.Table:
    """The tile table of ``scene``: the tiles' own fields, test defaults for the rest."""
    rows = []
    for i, t in enumerate(tiles):
        lon0, lat0, lon1, lat1 = t.bounds
        rows.append(
            {
                "tile_id": t.tile_id,
                "scene_id": scene,
                "scene_uri": f"/data/{scene}.tif",
                "row_off": i * t.pixels,
                "col_off": 0,
                "width": t.pixels,
                "height": t.pixels,
                "proj:code": "EPSG:4326",
                "proj:transform": [
                    (lon1 - lon0) / t.pixels, 0.0, lon0, 0.0, -(lat1 - lat0) / t.pixels, lat1,
                ],
                "bands": [1, 2, 3],
                "gsd_m": t.gsd_m,
                "valid_fraction": 1.0,
                "image": t.image,
                "tiling": "test",
                "geometry": shapely.to_wkb(shapely.box(lon0, lat0, lon1, lat1)),
            }
        )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schemas.TILES_SCHEMA)


def write_tile_part(ws: Workspace | Path, scene: str, tiles: Sequence[Tile]) -> Path:
    """Write ``tiles/part-<scene>.parquet`` of ``tiles`` into the workspace ``ws``."""
    path = Workspace(ws).tile_part(scene) if isinstance(ws, Path) else ws.tile_part(scene)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(tile_part(scene, tiles), path)
    return path
