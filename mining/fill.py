"""Undeclared fill: a constant value around the data that the file does not call nodata.

Rule: in the decimated sample of a scene with no nodata value, mask or alpha
band, the pixels on the sample's border (its outermost rows and columns) are
looked at. When at least :data:`MIN_SHARE` of them hold one same value in all
three bands, that value is a usual fill value (0, 1, -9999, or the data type's
minimum or maximum, except 255 in 8-bit data: saturated snow, cloud or glare),
it is the sample's minimum or maximum, and it holds at least one of the sample's
four corners (fill surrounds the data out to the frame; a value along one edge
that reaches no corner is data), that value is treated as nodata and the summary
says so. ``--nodata VALUE`` sets the value instead;
``--no-detect-fill`` turns the rule off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_SHARE = 0.3
USUAL = (0.0, 1.0, -9999.0)


def usual_fill_values(dtype: np.dtype) -> set[float]:
    """Values that fill outside the data usually takes in ``dtype``."""
    out = set(USUAL)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        out |= {float(info.min), float(info.max)}
        if dtype == np.uint8:  # 255 is saturation (snow, cloud, glare) far more than fill
            out.discard(255.0)
    elif np.issubdtype(dtype, np.floating):
        info = np.finfo(dtype)
        out |= {float(info.min), float(info.max)}
    return out


@dataclass(frozen=True)
class Fill:
    """A detected fill value and the share of border pixels that hold it."""

    value: float
    share: float

    def note(self) -> str:
        return (
            f"no nodata declared, but {self.share:.0%} of the scene's border is the constant "
            f"value {self.value:g}: treated as nodata (set it with --nodata VALUE, or keep it "
            "as data with --no-detect-fill)"
        )


def border_fill(sample: np.ndarray, dtype: np.dtype | str | None = None) -> Fill | None:
    """The fill value of a (3, h, w) ``sample`` of a ``dtype`` scene (default: the
    sample's), or None when its border is not a constant usual fill value."""
    if sample.ndim != 3 or min(sample.shape[1:]) < 3:
        return None
    border = np.concatenate(
        [sample[:, 0, :], sample[:, -1, :], sample[:, 1:-1, 0], sample[:, 1:-1, -1]], axis=1
    )
    same = np.all(border == border[:1], axis=0)  # one value in every band
    if not same.any():
        return None
    values, counts = np.unique(border[0, same], return_counts=True)
    best = int(np.argmax(counts))
    value, share = values[best], counts[best] / border.shape[1]
    finite = sample[np.isfinite(sample)] if np.issubdtype(sample.dtype, np.floating) else sample
    if share < MIN_SHARE or not np.isfinite(value) or value not in (finite.min(), finite.max()):
        return None
    if float(value) not in usual_fill_values(np.dtype(dtype or sample.dtype)):
        return None
    corners = sample[:, [0, 0, -1, -1], [0, -1, 0, -1]]  # (bands, 4)
    if not np.all(corners == value, axis=0).any():
        return None
    return Fill(float(value), float(share))
