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
import pyarrow.compute as pc

from blindpairs.footprints import join, lon_delta, wrap_lon
from pairs.wkb_rings import one_ring_polygons, ring_areas, ring_centroids

EARTH_RADIUS_M = 6_371_008.8
_DEG = np.pi / 180.0
MEASURE_BLOCK = 1 << 14  # footprints measured at a time (bounds the temporary geometries)


@dataclass(frozen=True)
class Footprints:
    """Per-tile footprint facts, row-aligned with the mine stage's tiles."""

    wkb: pa.Array  # footprints, lon/lat (parsed again only for pairs near enough to test)
    scene: np.ndarray  # int scene codes
    lon: np.ndarray  # centroid, degrees
    lat: np.ndarray
    radius_m: np.ndarray  # centroid to farthest vertex
    width_m: np.ndarray  # sqrt(area)

    def take(self, keep: np.ndarray) -> Footprints:
        rows = np.flatnonzero(keep) if keep.dtype == bool else keep
        facts = (getattr(self, f)[keep] for f in ("scene", "lon", "lat", "radius_m", "width_m"))
        return Footprints(self.wkb.take(pa.array(rows, type=pa.int64())), *facts)

    def geoms(self, rows: np.ndarray) -> np.ndarray:
        """The joined shapely footprints of ``rows``."""
        return _parse(self.wkb.take(pa.array(rows, type=pa.int64())))[0]


def _parse(wkb: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Joined shapely footprints (a tiny box where unusable) and the mask of usable ones."""
    import shapely

    geoms = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False), on_invalid="ignore")
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ok &= np.isin(shapely.get_type_id(geoms), (3, 6))  # Polygon, MultiPolygon (split at 180)
    return join(np.where(ok, geoms, shapely.box(0, 0, 1e-9, 1e-9))), ok


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


def _measure_rings(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_measure_shapely`'s facts of one-ring polygons ``(rows, points, 2)``
    computed with NumPy, and the mask of those measured (not: no area, where shapely
    takes a line centroid)."""
    cx, cy, area2 = ring_centroids(coords)
    good = area2 != 0
    coords, lon, lat = coords[good], wrap_lon(cx[good]), cy[good]
    px, py = coords[..., 0], coords[..., 1]
    radius = haversine_m(lon[:, None], lat[:, None], px, py).max(axis=1)
    x = lon_delta(lon[:, None], px) * _DEG * EARTH_RADIUS_M * np.cos(lat[:, None] * _DEG)
    y = (py - lat[:, None]) * _DEG * EARTH_RADIUS_M
    return np.c_[lon, lat, radius, np.sqrt(ring_areas(x, y))], good


def _measure(shapely: Any, wkb: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 4)`` centroid lon, lat, radius and width (metres) of footprints, and the
    mask of usable ones: one-ring polygons with NumPy (:mod:`pairs.wkb_rings`), the
    rest with shapely."""
    facts, ok = np.empty((len(wkb), 4)), np.zeros(len(wkb), dtype=bool)
    rest = np.ones(len(wkb), dtype=bool)
    for rows, coords in one_ring_polygons(wkb).values():
        got, good = _measure_rings(coords)
        rows = rows[good]
        facts[rows], ok[rows], rest[rows] = got, True, False
    if rest.any():
        left = np.flatnonzero(rest)
        facts[left], ok[left] = _measure_shapely(shapely, wkb.take(pa.array(left)))
    return facts, ok


def _measure_shapely(shapely: Any, wkb: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 4)`` centroid lon, lat, radius and width (metres) of footprints, and the
    mask of usable ones, from shapely geometries."""
    geoms, ok = _parse(wkb)
    cent = shapely.centroid(geoms)
    lon, lat = wrap_lon(shapely.get_x(cent)), shapely.get_y(cent)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    vert = haversine_m(lon[idx], lat[idx], coords[:, 0], coords[:, 1])
    radius = np.zeros(len(geoms))
    np.maximum.at(radius, idx, vert)
    width = np.sqrt(shapely.area(_local(shapely, geoms, lon, lat)))
    return np.c_[lon, lat, radius, width], ok


def load_footprints(tiles: pa.Table) -> tuple[Footprints, np.ndarray]:
    """Parse footprints; return them and a mask of tiles whose footprint is usable.

    Footprints are parsed and measured :data:`MEASURE_BLOCK` tiles at a time and kept
    as WKB (the shapely geometries of a million tiles would take about a GB)."""
    import shapely

    wkb = tiles.column("geometry").combine_chunks()
    n = len(wkb)
    facts, ok = np.empty((n, 4)), np.empty(n, dtype=bool)
    for s in range(0, n, MEASURE_BLOCK):
        facts[s : s + MEASURE_BLOCK], ok[s : s + MEASURE_BLOCK] = _measure(
            shapely, wkb.slice(s, MEASURE_BLOCK)
        )
    lon, lat, radius, width = facts.T.copy()
    ok &= width > 0
    scene_ids = tiles.column("scene_id").combine_chunks()
    scene = pc.index_in(scene_ids, value_set=pc.unique(scene_ids)).to_numpy(zero_copy_only=False)
    return Footprints(wkb, scene, lon, lat, radius, width), ok


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
    ga = _local(shapely, fp.geoms(ia), lon0, lat0)
    gb = _local(shapely, fp.geoms(ib), lon0, lat0)
    hit = shapely.intersects(ga, gb) | (shapely.distance(ga, gb) < min_d[near])
    if allow_same_place:
        other_date = fp.scene[ia] != fp.scene[ib]
        hit &= ~(other_date & (shapely.area(shapely.intersection(ga, gb)) > 0))
    out[near] = hit
    return out
