"""Spatial sense: pairs of the same place are not CLIP-blind pairs.

Footprints are WKB polygons in lon/lat. Distances are computed in metres in a
local equirectangular frame around each pair's midpoint (accurate to well
under 1% at tile scale); pairs whose centroids lie farther apart (haversine)
than their footprints' radii plus the minimum distance are never projected.
Longitudes are compared as shortest signed differences, and a footprint split
at the antimeridian (a MultiPolygon) is joined back into one polygon first
(:mod:`blindpairs.footprints`), so tiles on both sides of 180 deg are as near
as they are on the ground.

Rules, for every pair whatever its scenes: two tiles conflict when their
footprints intersect (overlap or touch) or lie closer than the minimum distance
(default: one tile width, the square root of the larger footprint's area), since
neighbouring tiles share content whether or not they come from one scene. The
one exception is ``allow_same_place``: footprints of different scenes that
overlap with positive area (the same place at another date) are then allowed;
tiles of different scenes that merely touch or lie near each other stay excluded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from blindpairs.footprints import join, lon_delta, wrap_lon

EARTH_RADIUS_M = 6_371_008.8
_DEG = np.pi / 180.0


@dataclass(frozen=True)
class Footprints:
    """Per-tile footprint facts, row-aligned with the mine stage's tiles."""

    geoms: np.ndarray  # shapely geometries, lon/lat
    scene: np.ndarray  # int scene codes
    lon: np.ndarray  # centroid, degrees
    lat: np.ndarray
    radius_m: np.ndarray  # centroid to farthest vertex
    width_m: np.ndarray  # sqrt(area)

    def take(self, keep: np.ndarray) -> Footprints:
        return Footprints(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


def _local(shapely: Any, geoms: np.ndarray, lon0: np.ndarray, lat0: np.ndarray) -> np.ndarray:
    """``geoms[i]`` in metres, in an equirectangular frame centred on (lon0[i], lat0[i])."""
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    x = lon_delta(lon0[idx], coords[:, 0]) * _DEG * EARTH_RADIUS_M * np.cos(lat0[idx] * _DEG)
    y = (coords[:, 1] - lat0[idx]) * _DEG * EARTH_RADIUS_M
    return shapely.set_coordinates(geoms.copy(), np.c_[x, y])


def haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> Any:
    """Great-circle distance in metres."""
    p1, p2 = lat1 * _DEG, lat2 * _DEG
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((lon2 - lon1) * _DEG / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def load_footprints(tiles: pa.Table) -> tuple[Footprints, np.ndarray]:
    """Parse footprints; return them and a mask of tiles whose footprint is usable."""
    import shapely

    geoms = shapely.from_wkb(
        tiles.column("geometry").to_numpy(zero_copy_only=False), on_invalid="ignore"
    )
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ok &= np.isin(shapely.get_type_id(geoms), (3, 6))  # Polygon, MultiPolygon (split at 180)
    safe = join(np.where(ok, geoms, shapely.box(0, 0, 1e-9, 1e-9)))
    cent = shapely.centroid(safe)
    lon, lat = wrap_lon(shapely.get_x(cent)), shapely.get_y(cent)
    coords, idx = shapely.get_coordinates(safe, return_index=True)
    vert = haversine_m(lon[idx], lat[idx], coords[:, 0], coords[:, 1])
    radius = np.zeros(len(safe))
    np.maximum.at(radius, idx, vert)
    width = np.sqrt(shapely.area(_local(shapely, safe, lon, lat)))
    ok &= width > 0
    _, scene = np.unique(
        tiles.column("scene_id").to_numpy(zero_copy_only=False), return_inverse=True
    )
    return Footprints(safe, scene, lon, lat, radius, width), ok


def conflicts(
    fp: Footprints,
    a: np.ndarray,
    b: np.ndarray,
    min_distance_tiles: float,
    min_distance_m: float | None,
    allow_same_place: bool,
) -> np.ndarray:
    """Mask of pairs ``(a[i], b[i])`` excluded as the same place."""
    import shapely

    if min_distance_m is None:
        min_d = min_distance_tiles * np.maximum(fp.width_m[a], fp.width_m[b])
    else:
        min_d = np.full(len(a), float(min_distance_m))
    gap = haversine_m(fp.lon[a], fp.lat[a], fp.lon[b], fp.lat[b]) - fp.radius_m[a] - fp.radius_m[b]
    # 1 m of slack for the centroid approximation; exact tests follow
    near = np.flatnonzero(gap <= min_d + 1.0)
    out = np.zeros(len(a), dtype=bool)
    if not near.size:
        return out
    ia, ib = a[near], b[near]
    lon0 = wrap_lon(fp.lon[ia] + lon_delta(fp.lon[ia], fp.lon[ib]) / 2)
    lat0 = (fp.lat[ia] + fp.lat[ib]) / 2
    ga = _local(shapely, fp.geoms[ia], lon0, lat0)
    gb = _local(shapely, fp.geoms[ib], lon0, lat0)
    hit = shapely.intersects(ga, gb) | (shapely.distance(ga, gb) < min_d[near])
    if allow_same_place:
        other_date = fp.scene[ia] != fp.scene[ib]
        hit &= ~(other_date & (shapely.area(shapely.intersection(ga, gb)) > 0))
    out[near] = hit
    return out
