"""Undeclared fill detection leaves saturated snow or cloud, and edge runs that reach
no corner, as data."""

from __future__ import annotations

import numpy as np

from mining.fill import border_fill

from .helpers import tile
from .rasters import textured, write_raster


def test_a_saturated_top_half_is_data_not_fill(tmp_path) -> None:
    data = textured((3, 256, 256), "uint8", 3)
    data[:, :128, :] = 255  # snow or cloud over the top half: half the border, 2 corners
    path = write_raster(tmp_path / "snow.tif", data)
    assert border_fill(data, "uint8") is None
    summary = tile(tmp_path / "ws", [path])
    assert not any("constant value" in n for n in summary.notes)
    assert summary.dropped["low_valid"] == 0  # the white tiles are judged as data


def test_a_value_along_an_edge_that_reaches_no_corner_is_not_fill() -> None:
    data = textured((3, 256, 256), "uint16", 4)
    data[:, :, 40:216] = 0  # a band through the middle: 34% of the border, no corner
    assert border_fill(data, "uint16") is None
    data[:, :, :40] = 0  # now it reaches the left corners: fill
    fill = border_fill(data, "uint16")
    assert fill is not None and fill.value == 0


def test_zero_fill_of_an_8_bit_scene_is_still_found() -> None:
    data = textured((3, 128, 128), "uint8", 5)
    data[:, :, :48] = 0
    fill = border_fill(data, np.uint8)
    assert fill is not None and fill.value == 0
