"""Reading tile footprints (the ``geometry`` column: WKB polygons in lon/lat).

A footprint that crosses the antimeridian is stored as a MultiPolygon split at
180 deg (GeoJSON, RFC 7946 sec. 3.1.9), so every stored geometry is valid in
lon/lat. Consumers that measure or draw a footprint first *join* it: its
longitudes are made continuous around its first vertex (they may then run past
180 or below -180), which puts the two halves of a split footprint back side by
side. Centres are normalised to [-180, 180).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def wrap_lon(lon: Any) -> Any:
    """Longitude(s) normalised to [-180, 180)."""
    return (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0


def lon_delta(lon_from: Any, lon_to: Any) -> Any:
    """The shortest signed difference ``lon_to - lon_from`` in degrees, in [-180, 180)."""
    return wrap_lon(np.asarray(lon_to, dtype=np.float64) - lon_from)


def from_wkb(wkbs: Any) -> np.ndarray:
    """Shapely geometries of an array of WKB values; None where missing or unreadable."""
    import shapely

    raw = np.array([bytes(w) if w is not None else None for w in wkbs], dtype=object)
    return shapely.from_wkb(raw, on_invalid="ignore")


def join(geoms: np.ndarray) -> np.ndarray:
    """Each (Multi)Polygon with continuous longitudes around its first vertex.

    The halves of a footprint split at the antimeridian become one polygon again
    (longitudes past 180 or below -180); Polygons, other MultiPolygons, missing
    and empty geometries come back unchanged.
    """
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    # only a MultiPolygon can be split at 180 deg: a valid lon/lat Polygon is continuous
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    present &= shapely.get_type_id(geoms) == 6
    if not present.any():
        return out
    sub = geoms[present]
    coords, idx = shapely.get_coordinates(sub, return_index=True)
    ref = coords[np.searchsorted(idx, np.arange(len(sub))), 0][idx]
    # whole turns only, so coordinates that need no shift stay bit-identical
    shift = 360.0 * np.round((ref + lon_delta(ref, coords[:, 0]) - coords[:, 0]) / 360.0)
    moved = shift != 0
    coords[:, 0] += shift
    joined = shapely.set_coordinates(sub.copy(), coords)
    split = np.zeros(len(sub), dtype=bool)
    split[np.unique(idx[moved])] = True
    multi = split & (shapely.get_type_id(joined) == 6)
    if multi.any():  # merge the halves that now touch along the old 180 deg seam
        joined[multi] = [shapely.union_all(shapely.get_parts(g)) for g in joined[multi]]
    out[present] = joined
    return out


def centers(geoms: np.ndarray) -> np.ndarray:
    """``(n, 2)`` lon/lat bounding-box centres of joined geometries (NaN where missing),
    longitudes normalised to [-180, 180)."""
    import shapely

    bounds = shapely.bounds(np.asarray(geoms, dtype=object))
    out = np.c_[(bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2]
    out[:, 0] = wrap_lon(out[:, 0])
    return out


def wkb_center(wkb: bytes) -> tuple[float, float] | None:
    """``(lon, lat)`` of the bounding-box centre of a WKB (Multi)Polygon, or None if unreadable.

    A footprint split at the antimeridian gives the centre of its joined halves.
    """
    import shapely

    try:
        geom = shapely.from_wkb(bytes(wkb))
    except (shapely.errors.GEOSException, ValueError, TypeError):
        return None
    if geom is None or geom.is_empty:
        return None
    lon, lat = centers(join(np.array([geom], dtype=object)))[0]
    return float(lon), float(lat)


def format_lonlat(center: tuple[float, float] | None, missing: str = "") -> str:
    """``"43.00050 N, 88.00050 W"`` for a ``(lon, lat)`` centre, or ``missing``."""
    if center is None:
        return missing
    lon, lat = center
    return f"{abs(lat):.5f} {'N' if lat >= 0 else 'S'}, {abs(lon):.5f} {'E' if lon >= 0 else 'W'}"
