"""Reading tile footprints (the ``geometry`` column: WKB polygons in lon/lat)."""

from __future__ import annotations


def wkb_center(wkb: bytes) -> tuple[float, float] | None:
    """``(lon, lat)`` of the bounding-box centre of a WKB (Multi)Polygon, or None if unreadable."""
    import shapely

    try:
        geom = shapely.from_wkb(bytes(wkb))
    except (shapely.errors.GEOSException, ValueError, TypeError):
        return None
    if geom is None or geom.is_empty:
        return None
    x0, y0, x1, y1 = geom.bounds
    return (x0 + x1) / 2, (y0 + y1) / 2


def format_lonlat(center: tuple[float, float] | None, missing: str = "") -> str:
    """``"43.00050 N, 88.00050 W"`` for a ``(lon, lat)`` centre, or ``missing``."""
    if center is None:
        return missing
    lon, lat = center
    return f"{abs(lat):.5f} {'N' if lat >= 0 else 'S'}, {abs(lon):.5f} {'E' if lon >= 0 else 'W'}"
