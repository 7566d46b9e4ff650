"""The centre of a tile footprint from its WKB polygon (lon/lat), without shapely."""

from __future__ import annotations

import struct


def wkb_center(wkb: bytes) -> tuple[float, float] | None:
    """``(lon, lat)`` of the bounding-box centre of a WKB (Multi)Polygon, or None if unreadable."""
    try:
        xs, ys = _coords(memoryview(bytes(wkb)))
    except (struct.error, ValueError, IndexError):
        return None
    if not xs:
        return None
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def _coords(buf: memoryview) -> tuple[list[float], list[float]]:
    xs: list[float] = []
    ys: list[float] = []
    _read_geometry(buf, 0, xs, ys)
    return xs, ys


def _read_geometry(buf: memoryview, pos: int, xs: list[float], ys: list[float]) -> int:
    order = "<" if buf[pos] == 1 else ">"
    (gtype,) = struct.unpack_from(order + "I", buf, pos + 1)
    pos += 5
    flags = gtype & 0xF0000000
    gtype &= 0x0FFFFFFF
    base, iso = gtype % 1000, gtype // 1000
    dims = (
        2 + (iso in (1, 2)) + 2 * (iso == 3) + bool(flags & 0x80000000) + bool(flags & 0x40000000)
    )
    if flags & 0x20000000:  # EWKB SRID
        pos += 4
    if base == 3:  # Polygon
        (rings,) = struct.unpack_from(order + "I", buf, pos)
        pos += 4
        for _ in range(rings):
            (n,) = struct.unpack_from(order + "I", buf, pos)
            pos += 4
            for _ in range(n):
                x, y = struct.unpack_from(order + "dd", buf, pos)
                xs.append(x)
                ys.append(y)
                pos += 8 * dims
        return pos
    if base == 6:  # MultiPolygon
        (parts,) = struct.unpack_from(order + "I", buf, pos)
        pos += 4
        for _ in range(parts):
            pos = _read_geometry(buf, pos, xs, ys)
        return pos
    raise ValueError(f"unsupported WKB geometry type {gtype}")


def format_location(center: tuple[float, float] | None) -> str:
    """``"43.00050 N, 88.00050 W"`` for a ``(lon, lat)`` centre, or ``""``."""
    if center is None:
        return ""
    lon, lat = center
    return f"{abs(lat):.5f} {'N' if lat >= 0 else 'S'}, {abs(lon):.5f} {'E' if lon >= 0 else 'W'}"
