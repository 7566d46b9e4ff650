"""Bringing any data type to 8-bit: pass-through, per-scene percentiles or a fixed scale."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Stretch:
    """A per-band linear map to 0..255: ``out = (value - lo) * gain``, clipped.

    ``lo`` and ``gain`` have one entry per output band (R, G, B).
    """

    lo: tuple[float, ...]
    gain: tuple[float, ...]
    how: str

    def apply(self, data: np.ndarray) -> np.ndarray:
        """Map a (3, h, w) array to uint8. NaNs become 0."""
        if self == IDENTITY and data.dtype == np.uint8:
            return data.copy()
        lo = np.asarray(self.lo, dtype=np.float32)[:, None, None]
        gain = np.asarray(self.gain, dtype=np.float32)[:, None, None]
        out = (data.astype(np.float32) - lo) * gain
        np.nan_to_num(out, copy=False, nan=0.0, posinf=255.0, neginf=0.0)
        np.rint(out, out=out)
        return np.clip(out, 0, 255).astype(np.uint8)


IDENTITY = Stretch(lo=(0.0, 0.0, 0.0), gain=(1.0, 1.0, 1.0), how="8-bit pass-through")


def scale_stretch(factor: float) -> Stretch:
    """A fixed stretch: ``out = value * factor``."""
    return Stretch(lo=(0.0,) * 3, gain=(factor,) * 3, how=f"scale x{factor:g}")


def percentile_stretch(
    sample: np.ndarray, valid: np.ndarray, lo_pct: float, hi_pct: float
) -> Stretch:
    """Per-band percentile stretch from a decimated ``sample`` (3, h, w) and its ``valid`` mask.

    Raises ``ValueError`` when the sample holds no valid pixel.
    """
    los, gains = [], []
    for band in sample:
        values = band[valid & np.isfinite(band)]
        if values.size == 0:
            raise ValueError("no valid pixels to compute the stretch from (all nodata?)")
        lo, hi = np.percentile(values.astype(np.float64), [lo_pct, hi_pct])
        los.append(float(lo))
        gains.append(255.0 / float(hi - lo) if hi > lo else 1.0)
    return Stretch(lo=tuple(los), gain=tuple(gains), how=f"percentiles {lo_pct:g}-{hi_pct:g}")
