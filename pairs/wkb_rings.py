"""One-ring WKB Polygons read straight from an Arrow binary array with NumPy.

Almost every tile footprint is a little-endian 2-D Polygon with one ring
(:mod:`mining.footprint`; only a footprint split at the antimeridian is a
MultiPolygon). Parsing a million of them into shapely objects to take a
centroid, a radius and an area cost ~7 s on one core, most of it holding the
GIL; reading their coordinates as a ``(tiles, points, 2)`` float64 array costs
a small fraction of that. Any other geometry (MultiPolygon, holes, Z/M, big
endian, missing or broken WKB) is left to shapely by the caller.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

HEADER = 13  # byte order (1), geometry type (4), rings (4), points of the ring (4)
POINT = 16  # x, y as float64
POLYGON = 3
MIN_POINTS = 4  # a closed ring


def _buffers(wkb: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Value offsets (``len + 1``, into ``data``) and the data bytes of a binary array."""
    _, offsets, data = wkb.buffers()
    kind = np.int64 if pa.types.is_large_binary(wkb.type) else np.int32
    off = np.frombuffer(offsets, dtype=kind)[wkb.offset : wkb.offset + len(wkb) + 1]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return off.astype(np.int64), raw


def _u32(raw: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Little-endian uint32 at byte positions ``at``."""
    b = raw[at[:, None] + np.arange(4)].astype(np.uint32)
    return b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16) | (b[:, 3] << 24)


def one_ring_polygons(wkb: pa.Array) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The little-endian one-ring 2-D Polygons of ``wkb``, grouped by point count:
    ``{points: (rows, coords)}`` with ``coords`` a ``(rows, points, 2)`` float64 array
    of lon/lat (the closing point included). Other rows are in no group, and so are
    all rows of an array that is not plain (large) binary (an extension type, say)."""
    if not (pa.types.is_binary(wkb.type) or pa.types.is_large_binary(wkb.type)):
        return {}
    off, raw = _buffers(wkb)
    start, length = off[:-1], np.diff(off)
    valid = ~np.asarray(wkb.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    cand = np.flatnonzero(valid & (length >= HEADER + MIN_POINTS * POINT))
    cand = cand[raw[start[cand]] == 1]  # little endian
    s = start[cand]
    points = (length[cand] - HEADER) // POINT
    fits = (
        (_u32(raw, s + 1) == POLYGON)
        & (_u32(raw, s + 5) == 1)
        & (_u32(raw, s + 9) == points)
        & (HEADER + points * POINT == length[cand])
    )
    cand, points = cand[fits], points[fits]
    groups: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k in np.unique(points).tolist():
        rows = cand[points == k]
        size = HEADER + k * POINT
        first = start[rows]
        if len(rows) and (np.diff(first) == size).all():  # consecutive: one view
            block = raw[first[0] : first[0] + len(rows) * size].reshape(len(rows), size)
        else:
            block = raw[first[:, None] + np.arange(size)]
        coords = np.ascontiguousarray(block[:, HEADER:]).view("<f8").reshape(len(rows), k, 2)
        groups[int(k)] = (rows, coords.astype(np.float64, copy=False))
    return groups


def ring_centroids(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area centroids ``(x, y)`` of closed rings ``(rows, points, 2)`` and their doubled
    signed areas (triangles fanned from the first vertex, as GEOS sums them)."""
    d = coords - coords[:, :1]
    x0, y0, x1, y1 = d[:, :-1, 0], d[:, :-1, 1], d[:, 1:, 0], d[:, 1:, 1]
    cross = x0 * y1 - x1 * y0
    area2 = cross.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = ((x0 + x1) * cross).sum(axis=1) / (3 * area2)
        cy = ((y0 + y1) * cross).sum(axis=1) / (3 * area2)
    return coords[:, 0, 0] + cx, coords[:, 0, 1] + cy, area2


def ring_areas(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Unsigned areas of closed rings given as ``(rows, points)`` coordinate arrays."""
    dx, dy = x - x[:, :1], y - y[:, :1]
    cross = dx[:, :-1] * dy[:, 1:] - dx[:, 1:] * dy[:, :-1]
    return np.abs(cross.sum(axis=1)) / 2
