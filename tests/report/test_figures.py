"""The figure builders put marks where the data says, and escape every text."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from report import bars, charts, svg
from report.gather import Similarities, TileInfo, Tiles
from report.mapplot import equal_area_frame, footprint_map

NS = {"s": "http://www.w3.org/2000/svg"}
TOL = 0.006  # coordinates are written with two decimals


def parse(doc: str) -> ET.Element:
    return ET.fromstring(doc)  # also proves the SVG is well-formed


def f(el: ET.Element, name: str) -> float:
    return float(el.attrib[name])


def test_scale_maps_ends_and_ticks_inside() -> None:
    s = svg.Scale(0.9, 1.0, 60, 540)
    assert s(0.9) == pytest.approx(60) and s(1.0) == pytest.approx(540)
    assert s(0.95) == pytest.approx(300)
    ticks = s.ticks()
    assert 3 <= len(ticks) <= 11 and all(0.9 - 1e-9 <= t <= 1.0 + 1e-9 for t in ticks)
    down = svg.Scale(0.0, 1.0, 400, 20)  # y axes grow upwards
    assert down(0.0) == pytest.approx(400) and down(1.0) == pytest.approx(20)


def test_scatter_points_and_thresholds_where_the_data_says() -> None:
    clip = np.array([0.93, 0.951, 0.97, 0.99, 0.96])
    dino = np.array([0.20, 0.75, 0.55, 0.61, 0.40])
    sims = Similarities(clip, dino, "candidates", 5)
    root = parse(charts.scatter(sims, 0.95, 0.6))
    frame = charts.scatter_frame(sims, 0.95, 0.6)
    dots = root.findall(".//s:circle", NS)
    assert len(dots) == 5
    for dot, c, d in zip(dots, clip, dino, strict=True):
        assert f(dot, "cx") == pytest.approx(frame.x(c), abs=TOL)
        assert f(dot, "cy") == pytest.approx(frame.y(d), abs=TOL)
        selected = c >= 0.95 and d < 0.6
        assert ("sel" in dot.attrib["class"].split()) == selected
    (v,) = [e for e in root.iter() if "tau-clip" in e.attrib.get("class", "")]
    (h,) = [e for e in root.iter() if "tau-dino" in e.attrib.get("class", "")]
    assert f(v, "x1") == f(v, "x2") == pytest.approx(frame.x(0.95), abs=TOL)
    assert f(h, "y1") == f(h, "y2") == pytest.approx(frame.y(0.6), abs=TOL)
    # the lines lie inside the plot: the domain holds both thresholds
    assert frame.x_domain[0] < 0.95 < frame.x_domain[1]
    assert frame.y_domain[0] < 0.6 < frame.y_domain[1]


def test_heatmap_one_cell_per_threshold_pair_and_the_run_outlined() -> None:
    grid = {"tau_clip": [0.94, 0.95], "tau_dino": [0.5, 0.6, 0.7], "pairs": [[1, 5, 9], [0, 3, 7]]}
    root = parse(charts.heatmap(grid, 0.95, 0.6))
    cells = [e for e in root.findall(".//s:rect", NS) if "cell" in e.attrib.get("class", "")]
    assert len(cells) == 6
    current = [c for c in cells if "current" in c.attrib["class"]]
    assert len(current) == 1
    assert "τ_clip 0.95, τ_dino 0.6: 3 pairs" in current[0].find("s:title", NS).text
    zero = next(c for c in cells if c.find("s:title", NS).text.endswith(": 0 pairs"))
    assert zero.attrib["fill"] == "#ffffff"
    darkest = max(cells, key=lambda c: int(c.find("s:title", NS).text.split(": ")[1].split()[0]))
    assert darkest.attrib["fill"] == charts.heat_color(9, 9)


def test_map_frame_keeps_local_proportions() -> None:
    frame = equal_area_frame(10.0, 10.5, 60.0, 60.2)
    lon_px = (frame.x(10.5) - frame.x(10.0)) / 0.5
    lat_px = (frame.y(60.0) - frame.y(60.2)) / 0.2
    mid = math.radians(sum(frame.y_domain) / 2)
    assert lon_px / lat_px == pytest.approx(math.cos(mid), rel=1e-6)


def _tile(tid: str, scene: str, lon: float, lat: float) -> TileInfo:
    ring = np.array([[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01]])
    return TileInfo(tid, scene, ring, (lon + 0.005, lat + 0.005))


def test_map_draws_every_footprint_and_pair_lines_between_tile_centres() -> None:
    tiles = [_tile("a", "s1", 10, 45), _tile("b", "s1", 10.02, 45), _tile("c", "s2", 11, 44)]
    info = Tiles({t.tile_id: t for t in tiles}, ())
    pairs = [
        {"tile_a": "a", "tile_b": "c", "rank": 1},
        {"tile_a": "a", "tile_b": "gone", "rank": 2},
    ]
    doc, lay = footprint_map(info, pairs, max_tiles=100)
    root = parse(doc)
    assert len(root.findall(".//s:polygon", NS)) == 3
    assert set(lay.scene_colors) == {"s1", "s2"}
    lines = [e for e in root.iter() if e.attrib.get("class") == "pair-line"]
    assert len(lines) == 1  # the pair with an unknown tile has no line
    x, y = lay.frame.x, lay.frame.y
    assert f(lines[0], "x1") == pytest.approx(x(10.005), abs=TOL)
    assert f(lines[0], "y2") == pytest.approx(y(44.005), abs=TOL)
    sampled, lay2 = footprint_map(info, pairs, max_tiles=2)
    assert len(parse(sampled).findall(".//s:polygon", NS)) == 2 and lay2.total == 3


def test_interval_chart_whiskers_at_the_interval() -> None:
    rows = [
        {"run": "m1", "pair_accuracy": 0.5, "pair_ci95_low": 0.3, "pair_ci95_high": 0.7},
        {"run": "m2", "pair_accuracy": None},
    ]
    root = parse(bars.interval_chart(rows))
    bar = next(e for e in root.findall(".//s:rect", NS) if e.attrib.get("class") == "bar")
    assert f(bar, "width") == pytest.approx(bars._x(0.5) - bars._x(0.0), abs=TOL)
    whisker = next(e for e in root.iter() if e.attrib.get("class") == "whisker")
    assert f(whisker, "x1") == pytest.approx(bars._x(0.3), abs=TOL)
    assert f(whisker, "x2") == pytest.approx(bars._x(0.7), abs=TOL)
    assert "no pairs scored" in bars.interval_chart(rows)


def test_svg_text_is_escaped() -> None:
    evil = '</text><script>alert(1)</script>"'
    doc = svg.document(100, 100, [svg.text(1, 2, evil)], label=evil)
    assert "<script>" not in doc
    root = parse(doc)
    assert root.find("s:text", NS).text == evil  # shown as written
    assert root.attrib["aria-label"] == evil
