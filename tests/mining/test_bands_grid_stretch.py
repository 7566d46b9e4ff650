"""Unit tests: band choice, the tile grid's edge rules, and the 8-bit stretch."""

from __future__ import annotations

import numpy as np
import pytest

from mining.bands import choose_bands
from mining.grid import axis_offsets, tile_windows
from mining.radiometry import percentile_stretch

NIR_LIKE = np.arange(0, 200, dtype=np.uint8)
REAL_ALPHA = np.array([0, 255, 255, 0], dtype=np.uint8)


def test_colour_interpretation_is_used_and_alpha_checked():
    c = choose_bands(["red", "green", "blue", "alpha"], (), None, {4: NIR_LIKE}, 255)
    assert c.rgb == (1, 2, 3)
    assert c.alpha is None  # NAIP: the declared alpha holds NIR data
    assert any("declared alpha" in n for n in c.notes)
    c = choose_bands(["red", "green", "blue", "alpha"], (), None, {4: REAL_ALPHA}, 255)
    assert c.alpha == 4


def test_bgr_order_by_colour_interpretation():
    c = choose_bands(["blue", "green", "red"], (), None, {}, 255)
    assert c.rgb == (3, 2, 1)


def test_explicit_bands_preset_and_grey():
    assert choose_bands(["undefined"] * 4, (4, 3, 2), None, {}, 255).rgb == (4, 3, 2)
    assert choose_bands(["undefined"] * 13, (), "sentinel2-l2a", {}, 65535).rgb == (4, 3, 2)
    assert choose_bands(["gray"], (), None, {}, 255).rgb == (1, 1, 1)
    assert choose_bands(["undefined"] * 4, (2,), None, {}, 255).rgb == (2, 2, 2)
    assert choose_bands(["gray", "undefined", "undefined", "undefined"], (), None, {}, 255).rgb == (
        1,
        2,
        3,
    )


def test_impossible_choices_say_what_to_do():
    with pytest.raises(ValueError, match="--bands"):
        choose_bands(["undefined"] * 13, (), None, {}, 65535)
    with pytest.raises(ValueError, match="has 3"):
        choose_bands(["red", "green", "blue"], (4, 3, 2), None, {}, 255)
    with pytest.raises(ValueError, match="needs >= 12"):
        choose_bands(["undefined"] * 4, (), "sentinel2-l2a", {}, 255)


@pytest.mark.parametrize(
    "n,win,step", [(1000, 256, 256), (1000, 256, 200), (512, 512, 512), (513, 512, 256)]
)
def test_shift_rule_covers_every_pixel_with_full_tiles(n, win, step):
    axis = axis_offsets(n, win, step, "shift")
    covered = np.zeros(n, bool)
    for off in axis.offsets:
        assert off >= 0 and off + win <= n
        covered[off : off + win] = True
    assert covered.all() and axis.lost == 0


def test_pad_and_drop_rules():
    pad = axis_offsets(1000, 256, 256, "pad")
    assert pad.offsets == (0, 256, 512, 768) and pad.offsets[-1] + 256 > 1000
    drop = axis_offsets(1000, 256, 256, "drop")
    assert drop.offsets == (0, 256, 512) and drop.lost == 1000 - 768
    windows, lost = tile_windows(1000, 600, 256, 256, "drop")
    assert len(windows) == 3 * 2
    assert lost == 1000 * 600 - (3 * 256) * (2 * 256)


def test_scene_smaller_than_a_tile():
    with pytest.raises(ValueError, match="smaller than one tile"):
        axis_offsets(100, 256, 256, "shift")
    assert axis_offsets(100, 256, 256, "pad").offsets == (0,)


def test_percentile_stretch_maps_percentiles_to_the_ends():
    rng = np.random.default_rng(0)
    data = rng.normal(1000, 200, size=(3, 64, 64))
    valid = np.ones((64, 64), bool)
    st = percentile_stretch(data, valid, 2, 98)
    out = st.apply(data)
    assert out.dtype == np.uint8
    for b in range(3):
        lo, hi = np.percentile(data[b], [2, 98])
        assert abs(st.lo[b] - lo) < 1e-9
        frac_black = (out[b] == 0).mean()
        frac_white = (out[b] == 255).mean()
        assert 0.01 < frac_black < 0.035 and 0.01 < frac_white < 0.035


def test_stretch_ignores_invalid_pixels():
    data = np.full((3, 10, 10), 5000.0)
    data[:, :5] = np.linspace(100, 200, 50).reshape(5, 10)
    valid = np.zeros((10, 10), bool)
    valid[:5] = True
    st = percentile_stretch(data, valid, 0, 100)
    assert st.lo == (100.0, 100.0, 100.0)
    with pytest.raises(ValueError, match="no valid pixels"):
        percentile_stretch(data, np.zeros((10, 10), bool), 2, 98)
