"""The footprint map: every tile's footprint per scene and the selected pairs as lines.

Equirectangular (plate carrée with its standard parallel at the map's centre),
so lon/lat come straight from the footprints and distances look right locally.
The map's left edge is put in the widest empty band of longitudes, so tiles on
both sides of the antimeridian sit side by side (longitudes past 180 are
labelled as their wrapped value).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from blindpairs.footprints import wrap_lon
from report import svg
from report.axes import MARGIN, Frame
from report.gather import TileInfo, Tiles

WIDTH = 760
PLOT_H = (220, 560)  # smallest and largest height of the plot area


@dataclass(frozen=True)
class MapLayout:
    """The frame of the map and the scenes' colours."""

    frame: Frame
    scene_colors: dict[str, str]
    drawn: list[TileInfo]
    total: int
    west: float = -180.0  # the map's longitudes run from here eastwards, 360 degrees

    def lon(self, lon: float) -> float:
        """``lon`` on this map's continuous longitude axis."""
        return map_lon(lon, self.west)

    def ring(self, t: TileInfo) -> np.ndarray:
        """``t``'s ring moved by whole turns to sit at its centre's map longitude."""
        return map_ring(t, self.west)


def map_lon(lon: float, west: float) -> float:
    """``lon`` on a continuous longitude axis that starts at ``west``."""
    return west + (lon - west) % 360.0


def map_ring(t: TileInfo, west: float) -> np.ndarray:
    """``t``'s ring moved by whole turns to its centre's place east of ``west``."""
    ring = np.array(t.ring, dtype=np.float64)
    mid = (ring[:, 0].min() + ring[:, 0].max()) / 2  # a joined ring may run past 180
    ring[:, 0] += 360.0 * round((map_lon(t.center[0], west) - mid) / 360.0)
    return ring


class _LonFormat:
    """Tick labels of a continuous longitude axis: wrapped to [-180, 180)."""

    def format(self, value: float) -> str:  # noqa: A003 - used like str.format
        return f"{float(wrap_lon(value)):.4g}"


def western_edge(lons: list[float]) -> float:
    """The longitude just east of the widest gap between ``lons`` (on the circle)."""
    xs = np.sort(wrap_lon(np.asarray(lons, dtype=np.float64)))
    gaps = np.diff(np.r_[xs, xs[0] + 360.0])
    return float(xs[(int(np.argmax(gaps)) + 1) % len(xs)])


def _extent(rings: list[np.ndarray]) -> tuple[float, float, float, float]:
    stacked = np.concatenate(rings)
    lon0, lat0 = stacked.min(axis=0)
    lon1, lat1 = stacked.max(axis=0)
    return float(lon0), float(lon1), float(lat0), float(lat1)


def equal_area_frame(lon0: float, lon1: float, lat0: float, lat1: float) -> Frame:
    """A frame whose pixels per degree of longitude are cos(centre latitude) of latitude's."""
    pad_lon = max(lon1 - lon0, 1e-4) * 0.06
    pad_lat = max(lat1 - lat0, 1e-4) * 0.06
    lon0, lon1, lat0, lat1 = lon0 - pad_lon, lon1 + pad_lon, lat0 - pad_lat, lat1 + pad_lat
    cos_lat = max(math.cos(math.radians((lat0 + lat1) / 2)), 0.05)
    plot_w = WIDTH - MARGIN["left"] - MARGIN["right"]
    per_deg = plot_w / ((lon1 - lon0) * cos_lat)  # pixels per degree of latitude
    plot_h = (lat1 - lat0) * per_deg
    if plot_h > PLOT_H[1]:  # tall: widen the longitudes instead
        per_deg = PLOT_H[1] / (lat1 - lat0)
        half = plot_w / (per_deg * cos_lat) / 2
        mid = (lon0 + lon1) / 2
        lon0, lon1 = mid - half, mid + half
    # whole pixels of height; the latitudes grow or shrink to fit them exactly
    plot_h = int(round(min(max(plot_h, PLOT_H[0]), PLOT_H[1])))
    half = plot_h / per_deg / 2
    mid = (lat0 + lat1) / 2
    lat0, lat1 = mid - half, mid + half
    height = plot_h + MARGIN["top"] + MARGIN["bottom"]
    return Frame(WIDTH, height, (lon0, lon1), (lat0, lat1))


def layout(tiles: Tiles, max_tiles: int) -> MapLayout | None:
    """What the map draws (an even sample of at most ``max_tiles`` tiles); None if no footprint."""
    placed = [
        t for _, t in sorted(tiles.by_id.items()) if t.ring is not None and t.center is not None
    ]
    if not placed:
        return None
    drawn = placed
    if len(placed) > max_tiles:
        keep = np.linspace(0, len(placed) - 1, max_tiles).round().astype(np.int64)
        drawn = [placed[i] for i in keep]
    scenes = sorted({t.scene_id for t in placed})
    colors = {s: svg.color(i) for i, s in enumerate(scenes)}
    west = western_edge([t.center[0] for t in placed])
    frame = equal_area_frame(*_extent([map_ring(t, west) for t in placed]))
    return MapLayout(frame, colors, drawn, len(placed), west)


def footprint_map(
    tiles: Tiles, pairs: list[dict[str, Any]], max_tiles: int
) -> tuple[str, MapLayout] | None:
    """The map as SVG and what it drew, or None when no tile has a readable footprint."""
    lay = layout(tiles, max_tiles)
    if lay is None:
        return None
    frame = lay.frame
    x, y = frame.x, frame.y
    lon_format: Any = _LonFormat()  # has .format like the str Frame.axes expects
    body = frame.axes("longitude (°)", "latitude (°)", lon_format, "{:.4g}")
    for t in lay.drawn:
        coords = [(x(lon), y(lat)) for lon, lat in lay.ring(t).tolist()]
        body.append(
            svg.element(
                "polygon",
                points=svg.points(coords),
                cls="footprint",
                fill=lay.scene_colors[t.scene_id],
                stroke=lay.scene_colors[t.scene_id],
            )
        )
    body += _scene_markers(tiles, lay)
    body += _pair_lines(tiles, pairs, lay)
    label = (
        f"Footprints of {len(lay.drawn)} tiles in {len(lay.scene_colors)} scenes, "
        f"{len(pairs)} pairs"
    )
    return svg.document(frame.width, frame.height, body, label), lay


def _scene_markers(tiles: Tiles, lay: MapLayout) -> list[str]:
    """A ring and a name at each scene's centre, so scenes far apart stay visible."""
    x, y = lay.frame.x, lay.frame.y
    by_scene: dict[str, list[tuple[float, float]]] = {}
    for t in tiles.by_id.values():
        if t.center is not None:
            by_scene.setdefault(t.scene_id, []).append((lay.lon(t.center[0]), t.center[1]))
    out = []
    for scene, col in lay.scene_colors.items():
        lon, lat = np.asarray(by_scene[scene]).mean(axis=0).tolist()
        out.append(
            svg.element(
                "circle",
                svg.title(scene),
                cx=x(lon),
                cy=y(lat),
                r=7.0,
                cls="scene-marker",
                stroke=col,
            )
        )
        right_half = x(lon) > lay.frame.width / 2
        out.append(
            svg.text(
                x(lon) + (-9 if right_half else 9),
                y(lat) - 6,
                scene,
                cls="scene-label",
                text_anchor="end" if right_half else "start",
            )
        )
    return out


def _pair_lines(tiles: Tiles, pairs: list[dict[str, Any]], lay: MapLayout) -> list[str]:
    x, y = lay.frame.x, lay.frame.y
    out = []
    for row in pairs:
        a, b = tiles.by_id.get(row["tile_a"]), tiles.by_id.get(row["tile_b"])
        if a is None or b is None or a.center is None or b.center is None:
            continue
        tip = f"pair #{row['rank']}: {row['tile_a']} – {row['tile_b']}"
        out.append(
            svg.element(
                "line",
                svg.title(tip),
                x1=x(lay.lon(a.center[0])),
                y1=y(a.center[1]),
                x2=x(lay.lon(b.center[0])),
                y2=y(b.center[1]),
                cls="pair-line",
            )
        )
    return out
