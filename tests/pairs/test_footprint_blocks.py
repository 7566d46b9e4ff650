"""Footprints measured a block at a time and kept as WKB: the same facts and exclusions."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import shapely

from pairs import spatial
from pairs.spatial import conflicts, load_footprints


def _tiles() -> pa.Table:
    boxes = [shapely.box(x, 0.0, x + 0.01, 0.01) for x in (0.0, 0.01, 0.5, 0.515, 3.0)]
    split = shapely.MultiPolygon(  # one footprint split at 180 deg, and its neighbour
        [shapely.box(179.995, 1.0, 180.0, 1.01), shapely.box(-180.0, 1.0, -179.995, 1.01)]
    )
    geoms = [*boxes, split, shapely.box(179.985, 1.0, 179.995, 1.01), shapely.Point(1, 1)]
    wkb = [shapely.to_wkb(g) for g in geoms] + [None]
    return pa.table({"geometry": pa.array(wkb, pa.binary()), "scene_id": ["s1", "s2"] * 4 + ["s1"]})


def test_blocks_give_the_same_footprints_and_conflicts(monkeypatch) -> None:
    tiles = _tiles()
    whole, ok = load_footprints(tiles)
    monkeypatch.setattr(spatial, "MEASURE_BLOCK", 2)
    blocks, ok2 = load_footprints(tiles)
    assert ok.tolist() == [True] * 7 + [False, False] and ok2.tolist() == ok.tolist()
    for name in ("scene", "lon", "lat", "radius_m", "width_m"):
        np.testing.assert_array_equal(getattr(blocks, name), getattr(whole, name))
    assert isinstance(blocks.wkb, pa.Array)  # no shapely objects held per tile
    fp = blocks.take(ok)
    a, b = np.triu_indices(7, 1)
    same = conflicts(fp, a, b, 1.0, None, False)
    pairs = {(int(i), int(j)) for i, j in zip(a[same], b[same], strict=True)}
    assert pairs == {(0, 1), (2, 3), (5, 6)}  # touching, half a tile apart, across 180 deg
