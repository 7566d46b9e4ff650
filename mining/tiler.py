"""Cutting tiles (runs on a Dask worker): read, validate, stretch, encode, georeference."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from affine import Affine

from blindpairs import columns
from blindpairs.schemas import TILES_SCHEMA
from mining.footprint import footprint_wkb, to_lonlat, window_ring
from mining.georef import open_scene
from mining.plan import ScenePlan
from mining.png_column import PngColumn
from mining.reading import read_padded

DROP_REASONS = ("low_valid", "uniform", "saturated", "read_error")
WHITE = 250  # a channel value at or above which a pixel counts as near-white


@dataclass(frozen=True)
class ChunkTask:
    plan: ScenePlan
    windows: tuple[tuple[int, int], ...]
    min_valid: float
    min_std: float
    max_saturated: float
    png_compression: int


@dataclass
class ChunkResult:
    scene_id: str
    table: pa.Table
    dropped: Counter = field(default_factory=Counter)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (window, reason)


def tile_id(plan: ScenePlan, row_off: int, col_off: int) -> str:
    """Stable, unique tile id: scene, window, and a hash of scene content + tiling."""
    return f"{plan.ref.scene_id}-r{row_off}-c{col_off}-{plan.id_suffix}"


# The tile id of a tile cut before its scene's content hash is known (the plan's content
# is None): :func:`with_tile_ids` sets the ids once it is.
PENDING_ID = ""


def with_tile_ids(table: pa.Table, plan: ScenePlan) -> pa.Table:
    """``table`` (tile rows of ``plan``'s scene) with the tile ids of ``plan``, whose
    content hash is known, from each row's offsets."""
    offsets = zip(table["row_off"].to_pylist(), table["col_off"].to_pylist(), strict=True)
    ids = columns.array([tile_id(plan, r, c) for r, c in offsets], pa.string())
    index = TILES_SCHEMA.get_field_index("tile_id")
    return table.set_column(index, TILES_SCHEMA.field(index), ids)


def drop_reason(rgb: np.ndarray, valid: np.ndarray, task: ChunkTask) -> str | None:
    """Why a tile (uint8 (3, h, w) and its validity) is dropped, or None to keep it.

    Shares are counts over the valid pixels; a check whose threshold no tile can
    cross (``min_std`` <= 0, ``max_saturated`` >= 1) is not computed.
    """
    n_valid = np.count_nonzero(valid)
    if n_valid / valid.size < task.min_valid:
        return "low_valid"
    if not n_valid:
        return "uniform"
    everywhere = n_valid == valid.size
    if task.min_std > 0 and _luminance(rgb, None if everywhere else valid).std() < task.min_std:
        return "uniform"
    if task.max_saturated < 1:
        white = np.minimum(np.minimum(rgb[0], rgb[1]), rgb[2]) >= WHITE
        if not everywhere:
            white &= valid
        if np.count_nonzero(white) / n_valid > task.max_saturated:
            return "saturated"
    return None


def _luminance(rgb: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """float32 ``0.299 R + 0.587 G + 0.114 B`` of the valid pixels (all when ``valid`` is None),
    flat."""
    lum = rgb[0].astype(np.float32)
    lum *= 0.299
    for band, weight in ((1, 0.587), (2, 0.114)):
        term = rgb[band].astype(np.float32)
        term *= weight
        lum += term
    return lum.reshape(-1) if valid is None else lum[valid]


def tile_chunk(task: ChunkTask) -> ChunkResult:
    """Cut the tiles of ``task.windows``; bad tiles are counted, never raised."""
    plan = task.plan
    result = ChunkResult(plan.ref.scene_id, columns.empty(TILES_SCHEMA))
    rows: dict[str, list] = {name: [] for name in TILES_SCHEMA.names}
    src_transform = Affine(*plan.transform)
    kept: list[tuple[int, int]] = []
    images = PngColumn(task.png_compression, len(task.windows), plan.size)
    with open_scene(plan.ref.uri) as (ds, _):
        for row_off, col_off in task.windows:
            try:
                data, valid = read_padded(ds, plan.source, row_off, col_off, plan.win, plan.size)
            except Exception as exc:  # noqa: BLE001 - a bad block spares the other tiles
                result.dropped["read_error"] += 1
                result.errors.append((f"r{row_off}-c{col_off}", str(exc)))
                continue
            rgb = plan.stretch.apply(data)
            if not valid.all():
                np.multiply(rgb, valid, out=rgb)  # invalid pixels black
            reason = drop_reason(rgb, valid, task)
            if reason:
                result.dropped[reason] += 1
                continue
            kept.append((row_off, col_off))
            tile_tf = (
                src_transform
                * Affine.translation(col_off, row_off)
                * Affine.scale(plan.win / plan.size)
            )
            rows["tile_id"].append(
                PENDING_ID if plan.content is None else tile_id(plan, row_off, col_off)
            )
            rows["scene_id"].append(plan.ref.scene_id)
            rows["scene_uri"].append(plan.ref.uri)
            rows["row_off"].append(row_off)
            rows["col_off"].append(col_off)
            rows["width"].append(plan.win)
            rows["height"].append(plan.win)
            rows["proj:code"].append(plan.proj_code)
            rows["proj:transform"].append(list(tile_tf)[:6])
            rows["bands"].append(list(plan.source.rgb))
            rows["gsd_m"].append(plan.gsd_m)
            rows["valid_fraction"].append(np.count_nonzero(valid) / valid.size)
            images.append(rgb)
            rows["tiling"].append(plan.tiling)
    rows["image"] = images.array()
    rows["geometry"] = _footprints(plan, kept)
    result.table = columns.table(rows, TILES_SCHEMA)  # no pandas import: see columns
    return result


def _footprints(plan: ScenePlan, offsets: list[tuple[int, int]]) -> list[bytes]:
    """WKB footprints of the windows at ``(row_off, col_off)``: one reprojection for all."""
    if not offsets:
        return []
    from rasterio.crs import CRS

    src_transform = Affine(*plan.transform)
    rings = [window_ring(src_transform, c, r, plan.win, plan.win) for r, c in offsets]
    n = len(rings[0][0])
    lon, lat = to_lonlat(
        CRS.from_wkt(plan.crs_wkt),
        np.concatenate([xs for xs, _ in rings]),
        np.concatenate([ys for _, ys in rings]),
    )
    return [footprint_wkb(lon[i : i + n], lat[i : i + n]) for i in range(0, len(lon), n)]


def chunk_tasks(plan: ScenePlan, chunk: int, tail: int = 0, **thresholds) -> list[ChunkTask]:  # noqa: ANN003
    """Split a scene's windows into tasks of ``chunk`` tiles; its last ``tail`` windows go
    into tasks of a quarter of that, so the writer, which takes each task's tiles once
    they are cut, has less left to write alone after the cutting ends (the stage's last
    scene: 0.1-0.25 s on one core out of ~1 s, at 32 tiles a task)."""
    w = plan.windows
    split = max(0, len(w) - tail)
    small = max(1, chunk // 4)
    bounds = [*range(0, split, chunk), *range(split, len(w), small), len(w)]
    pairs = zip(bounds[:-1], bounds[1:], strict=True)
    return [ChunkTask(plan, w[a:b], **thresholds) for a, b in pairs if b > a]
