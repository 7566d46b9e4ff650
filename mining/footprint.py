"""Tile footprints in EPSG:4326 (lon/lat) as WKB (Multi)Polygons, and GeoParquet metadata.

A footprint that crosses the antimeridian is split at 180 deg into a MultiPolygon
(RFC 7946 sec. 3.1.9); every other one is a one-ring Polygon. A footprint that
contains a pole is not handled (tiles that large or that close to a pole are not
expected).
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
from affine import Affine

# Points per tile edge: enough that a footprint's bounds match
# rasterio.warp.transform_bounds to far below a pixel for tiles of any sane size.
DENSIFY = 8


def window_ring(
    transform: Affine, col_off: float, row_off: float, w: float, h: float
) -> tuple[np.ndarray, np.ndarray]:
    """A closed, densified ring of the window's outline in the source CRS."""
    t = np.linspace(0.0, 1.0, DENSIFY + 1)[:-1]
    cols = np.concatenate(
        [
            col_off + t * w,
            np.full_like(t, col_off + w),
            col_off + w - t * w,
            np.full_like(t, col_off),
        ]
    )
    rows = np.concatenate(
        [
            np.full_like(t, row_off),
            row_off + t * h,
            np.full_like(t, row_off + h),
            row_off + h - t * h,
        ]
    )
    cols = np.append(cols, cols[0])
    rows = np.append(rows, rows[0])
    xs, ys = transform * (cols, rows)
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)


def to_lonlat(crs: Any, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinates from ``crs`` to EPSG:4326 in lon/lat order."""
    from rasterio.warp import transform

    lon, lat = transform(crs, "EPSG:4326", xs.tolist(), ys.tolist())
    return np.asarray(lon), np.asarray(lat)


def polygon_wkb(lon: np.ndarray, lat: np.ndarray) -> bytes:
    """Little-endian WKB of a one-ring polygon (the ring must be closed)."""
    coords = np.column_stack([lon, lat]).astype("<f8")
    return struct.pack("<BIII", 1, 3, 1, len(coords)) + coords.tobytes()


def crosses_antimeridian(lon: np.ndarray) -> bool:
    """True when a closed lon/lat ring jumps across 180 deg between two vertices."""
    return bool(np.any(np.abs(np.diff(lon)) > 180.0))


def footprint_wkb(lon: np.ndarray, lat: np.ndarray) -> bytes:
    """WKB of a tile footprint from its closed lon/lat ring.

    A ring that crosses the antimeridian becomes a MultiPolygon split at 180 deg
    (RFC 7946 sec. 3.1.9): one part east of -180, one west of 180, so the geometry
    is valid in lon/lat. Any other ring is a one-ring polygon.
    """
    if not crosses_antimeridian(lon):
        return polygon_wkb(lon, lat)
    import shapely
    from shapely import affinity

    # longitudes continuous from the first vertex (some run past +-180), then cut
    steps = np.diff(lon)
    unwrapped = lon[0] + np.concatenate([[0.0], np.cumsum(steps - 360.0 * np.round(steps / 360))])
    poly = shapely.make_valid(shapely.Polygon(np.column_stack([unwrapped, lat])))
    parts = []
    for west in (-540.0, -180.0, 180.0):
        part = shapely.intersection(poly, shapely.box(west, -90.0, west + 360.0, 90.0))
        if not part.is_empty and part.area > 0:
            shifted = affinity.translate(part, xoff=-(west + 180.0))
            parts.extend(p for p in shapely.get_parts(shifted) if p.geom_type == "Polygon")
    return shapely.to_wkb(shapely.MultiPolygon(parts), byte_order=1)


def pixel_size_m(transform: Affine, crs: Any, center_lat: float | None) -> tuple[float, float]:
    """Ground size in metres of one source pixel: ``(x, y)`` (column and row directions)."""
    size_x = math.hypot(transform.a, transform.d)
    size_y = math.hypot(transform.b, transform.e)
    if crs.is_geographic:
        lat = math.radians(center_lat or 0.0)
        return size_x * 111_320.0 * max(math.cos(lat), 1e-6), size_y * 111_320.0
    factor = crs.linear_units_factor[1] if crs.linear_units_factor else 1.0
    return size_x * factor, size_y * factor


def geo_metadata(bbox: list[float] | None = None) -> dict[str, Any]:
    """GeoParquet 1.1 metadata for the ``geometry`` column (lon/lat, OGC:CRS84 = EPSG:4326
    with lon/lat axis order, which is the GeoParquet default when ``crs`` is omitted)."""
    column: dict[str, Any] = {
        "encoding": "WKB",
        "geometry_types": ["Polygon", "MultiPolygon"],  # split at the antimeridian
        "edges": "planar",
    }
    if bbox is not None:
        column["bbox"] = bbox
    return {"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": column}}
