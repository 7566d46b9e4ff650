"""Footprint facts of one-ring polygons read with NumPy match shapely's, row by row."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import shapely

from pairs import spatial
from pairs.wkb_rings import one_ring_polygons


def _ring(lon: float, lat: float, w: float, h: float, points: int, tilt: float) -> shapely.Polygon:
    """A densified, slightly rotated rectangle (as a tiler writes a warped tile)."""
    t = np.linspace(0, 1, points + 1)[:-1]
    xs = np.r_[t * w, np.full_like(t, w), w - t * w, np.zeros_like(t)]
    ys = np.r_[np.zeros_like(t), t * h, np.full_like(t, h), h - t * h]
    c, s = np.cos(tilt), np.sin(tilt)
    return shapely.Polygon(np.c_[lon + c * xs - s * ys, lat + s * xs + c * ys])


def _footprints(seed: int = 0) -> list[bytes | None]:
    rng = np.random.default_rng(seed)
    geoms: list[bytes | None] = []
    for _ in range(300):
        lon, lat = rng.uniform(-180, 179.9), rng.uniform(-80, 80)
        w, h = rng.uniform(0.001, 0.05, 2)
        g = _ring(lon, lat, w, h, int(rng.integers(1, 9)), rng.normal(0, 0.2))
        geoms.append(shapely.to_wkb(g))
    near180 = _ring(179.98, 10.0, 0.015, 0.01, 8, 0.0)  # one Polygon past 180 (joined form)
    split = shapely.MultiPolygon(
        [shapely.box(179.995, 1.0, 180.0, 1.01), shapely.box(-180.0, 1.0, -179.995, 1.01)]
    )
    holed = shapely.box(0, 0, 1, 1).difference(shapely.box(0.4, 0.4, 0.6, 0.6))
    odd = [
        shapely.to_wkb(near180),
        shapely.to_wkb(split),
        shapely.to_wkb(holed),
        shapely.to_wkb(shapely.box(5, 5, 5.01, 5.01), byte_order=0),  # big endian
        shapely.to_wkb(shapely.Polygon([(1, 1, 3), (1.01, 1, 3), (1.01, 1.01, 3), (1, 1, 3)])),
        shapely.to_wkb(shapely.Polygon([(2, 2), (2.01, 2.01), (2.02, 2.02), (2, 2)])),  # no area
        shapely.to_wkb(shapely.Point(1, 1)),
        shapely.to_wkb(shapely.Polygon()),
        b"\x01\x03\x00\x00\x00broken",
        None,
    ]
    return geoms[:150] + odd + geoms[150:]


@pytest.mark.parametrize("binary", [pa.binary(), pa.large_binary()])
def test_numpy_facts_match_shapely_on_every_kind_of_footprint(binary) -> None:
    import shapely as sh

    wkb = pa.array(_footprints(), binary)
    got, ok = spatial._measure(sh, wkb)
    want, ok_want = spatial._measure_shapely(sh, wkb)
    assert ok.tolist() == ok_want.tolist()
    assert ok.sum() == len(wkb) - 4  # point, empty, broken, missing
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-9, atol=1e-6)


def test_only_little_endian_one_ring_2d_polygons_are_read_with_numpy() -> None:
    wkb = pa.array(_footprints(), pa.binary())
    rows = np.sort(np.concatenate([r for r, _ in one_ring_polygons(wkb).values()]))
    # 300 random rings, the polygon near 180 and the one without area
    assert len(rows) == 302
    assert {150, 155} <= set(rows.tolist())
    assert not {151, 152, 153, 154, 156, 157, 158, 159} & set(rows.tolist())
    # a slice of the array (Arrow offset) reads the same rows, shifted
    part = one_ring_polygons(wkb.slice(100, 100))
    sliced = np.sort(np.concatenate([r for r, _ in part.values()]))
    assert sliced.tolist() == [r - 100 for r in rows.tolist() if 100 <= r < 200]


def test_coordinates_are_the_polygon_s_own() -> None:
    g = _ring(12.5, -40.0, 0.02, 0.01, 4, 0.1)
    ((rows, coords),) = one_ring_polygons(pa.array([shapely.to_wkb(g)])).values()
    assert rows.tolist() == [0]
    np.testing.assert_array_equal(coords[0], shapely.get_coordinates(g))


def test_an_array_that_is_not_plain_binary_is_left_to_shapely() -> None:
    wkb = pa.array([shapely.to_wkb(shapely.box(0, 0, 0.01, 0.01))], pa.binary())
    as_string = pa.array([shapely.to_wkb(shapely.box(0, 0, 0.01, 0.01), hex=True)])
    assert one_ring_polygons(as_string) == {}
    assert len(one_ring_polygons(wkb)) == 1
