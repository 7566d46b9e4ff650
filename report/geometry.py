"""Tile footprints (WKB polygons in lon/lat): outer rings and centres.

A footprint split at the antimeridian is joined first (:mod:`blindpairs.footprints`):
its ring has continuous longitudes, some past 180 or below -180.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def outer_rings(wkbs: Sequence[bytes | None]) -> list[np.ndarray | None]:
    """The outer ring (n x 2 lon/lat array) of each WKB (Multi)Polygon; None if unreadable.

    A MultiPolygon gives the ring of its largest part.
    """
    from blindpairs.footprints import from_wkb, join

    geoms = join(from_wkb([w if w else None for w in wkbs]))
    out: list[np.ndarray | None] = []
    for geom in geoms:
        out.append(_ring(geom))
    return out


def _ring(geom: object) -> np.ndarray | None:
    import shapely

    if geom is None or shapely.is_empty(geom):
        return None
    kind = shapely.get_type_id(geom)
    if kind == 6:  # MultiPolygon
        parts = shapely.get_parts(geom)
        geom = parts[int(np.argmax(shapely.area(parts)))]
        kind = 3
    if kind != 3:  # not a Polygon
        return None
    ring = shapely.get_coordinates(shapely.get_exterior_ring(geom))
    return ring if len(ring) and np.isfinite(ring).all() else None


def ring_center(ring: np.ndarray | None) -> tuple[float, float] | None:
    """``(lon, lat)`` of the bounding-box centre of a ring, longitude in [-180, 180)."""
    from blindpairs.footprints import wrap_lon

    if ring is None:
        return None
    lo, hi = ring.min(axis=0), ring.max(axis=0)
    return float(wrap_lon((lo[0] + hi[0]) / 2)), float((lo[1] + hi[1]) / 2)
