"""The shared footprint reader: antimeridian-split footprints joined, others untouched."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from blindpairs.footprints import join, lon_delta, wkb_center, wrap_lon

SPLIT = shapely.MultiPolygon(
    [shapely.box(179.9, 10.0, 180.0, 10.1), shapely.box(-180.0, 10.0, -179.95, 10.1)]
)


def test_a_split_footprint_joins_into_one_polygon_across_180() -> None:
    (joined,) = join(np.array([SPLIT], dtype=object))
    assert joined.geom_type == "Polygon"
    assert joined.area == pytest.approx(SPLIT.area)
    x0, _, x1, _ = joined.bounds
    assert x1 - x0 == pytest.approx(0.15)
    lon, lat = wkb_center(SPLIT.wkb)
    assert lon == pytest.approx(179.975) and lat == pytest.approx(10.05)


def test_polygons_and_other_multipolygons_are_untouched() -> None:
    poly = shapely.box(10.123456789, 45.0, 10.2, 45.1)
    apart = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)])
    out = join(np.array([poly, apart, None], dtype=object))
    assert shapely.equals_exact(out[0], poly, tolerance=0) and out[1].equals(apart)
    assert out[2] is None


def test_longitude_helpers_wrap() -> None:
    assert wrap_lon(190.0) == pytest.approx(-170.0) and wrap_lon(-180.0) == -180.0
    assert lon_delta(179.9, -179.9) == pytest.approx(0.2)
    assert lon_delta(-179.9, 179.9) == pytest.approx(-0.2)
