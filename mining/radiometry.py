"""Bringing any data type to 8-bit: pass-through, per-scene percentiles or a fixed scale.

The map is computed in float32 (:meth:`Stretch.apply`). For 8- and 16-bit integer
data it is applied through a lookup table of every value of the type, built
once per stretch and data type by that same float32 map, so the tiles are the
same bytes as the float path gives, at a fraction of the cost per tile.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Integer types applied by lookup table: 2**8 or 2**16 entries per band.
LUT_DTYPES = frozenset(np.dtype(t) for t in ("uint8", "int8", "uint16", "int16"))


@dataclass(frozen=True)
class Stretch:
    """A per-band linear map to 0..255: ``out = (value - lo) * gain``, clipped.

    ``lo`` and ``gain`` have one entry per output band (R, G, B).
    """

    lo: tuple[float, ...]
    gain: tuple[float, ...]
    how: str

    def apply(self, data: np.ndarray) -> np.ndarray:
        """Map a (3, h, w) array to uint8. NaN and -inf become 0, +inf 255."""
        if self == IDENTITY and data.dtype == np.uint8:
            return data.copy()
        if data.dtype in LUT_DTYPES:
            return apply_lut(lookup_table(self, data.dtype.str), data)
        return self.apply_float(data)

    def apply_float(self, data: np.ndarray) -> np.ndarray:
        """The map in float32 for any real data type: ``rint(clip((value - lo) * gain))``."""
        lo = np.asarray(self.lo, dtype=np.float32).reshape(-1, *[1] * (data.ndim - 1))
        gain = np.asarray(self.gain, dtype=np.float32).reshape(lo.shape)
        with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN handled below
            out = data.astype(np.float32)  # a copy even when float32: changed in place
            out -= lo
            out *= gain
        np.fmax(out, 0.0, out=out)  # NaN (and -inf) -> 0: fmax ignores NaN
        np.fmin(out, 255.0, out=out)
        np.rint(out, out=out)
        return out.astype(np.uint8)


@lru_cache(maxsize=32)
def lookup_table(stretch: Stretch, dtype: str) -> np.ndarray:
    """(bands, 2**bits) uint8: the stretch of every value of the integer ``dtype``,
    indexed by the value's bits read as unsigned (so signed types need no offset)."""
    dt = np.dtype(dtype)
    unsigned = np.dtype(f"u{dt.itemsize}")
    values = np.arange(2 ** (8 * dt.itemsize), dtype=unsigned).view(dt)
    n = len(stretch.lo)
    lut = stretch.apply_float(np.broadcast_to(values, (n, values.size)))
    lut.flags.writeable = False  # shared by every tile of the scene
    return lut


_scratch = threading.local()  # per thread: the index buffer of apply_lut
_KEPT_INDEX = 1 << 22  # values (8 bytes each) of the largest band whose buffer is kept


def apply_lut(lut: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Map (bands, h, w) integer ``data`` through the per-band ``lut`` of :func:`lookup_table`.

    ``np.take`` casts its indices to ``intp``: given the 16-bit values it casts each band
    into a new buffer (2 MB per 512 px band), and the page faults of that fresh memory
    were half the tile stage's (measured). The cast goes instead into one buffer per
    thread, reused for every tile (smaller passes cost more: numpy's per-call overhead);
    bands over :data:`_KEPT_INDEX` values get a buffer of their own, as before.
    """
    index = data.view(f"u{data.dtype.itemsize}")
    bands, h, w = data.shape
    out = np.empty(data.shape, dtype=np.uint8)
    buf = getattr(_scratch, "index", None)
    if buf is None or buf.size < h * w:
        buf = np.empty(h * w, dtype=np.intp)
        if h * w <= _KEPT_INDEX:  # up to 2048 px tiles: 32 MB a thread at most
            _scratch.index = buf
    idx = buf[: h * w].reshape(h, w)
    for band in range(bands):
        np.copyto(idx, index[band])
        np.take(lut[band], idx, out=out[band], mode="clip")  # in range; unbuffered
    return out


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
    integer = sample.dtype.kind in "iu"
    for band in sample:
        values = band[valid] if integer else band[valid & np.isfinite(band)]
        if values.size == 0:
            raise ValueError("no valid pixels to compute the stretch from (all nodata?)")
        lo, hi = percentiles(values, (lo_pct, hi_pct))
        los.append(lo)
        gains.append(255.0 / (hi - lo) if hi > lo else 1.0)
    return Stretch(lo=tuple(los), gain=tuple(gains), how=f"percentiles {lo_pct:g}-{hi_pct:g}")


def percentiles(values: np.ndarray, pcts: tuple[float, ...]) -> list[float]:
    """``np.percentile(values.astype(np.float64), pcts)`` (numpy's default, linear
    method) of non-empty 1-D ``values``; 8- and 16-bit integers by a histogram
    instead of a partial sort, with numpy's arithmetic, so the same floats."""
    if values.dtype.kind not in "iu" or values.dtype.itemsize > 2:
        return [float(p) for p in np.percentile(values.astype(np.float64), pcts)]
    low = int(values.min())
    keys = values.astype(np.intp)
    if low:
        keys -= low
    cumulative = np.cumsum(np.bincount(keys))
    n = values.size

    def order_statistic(k: int) -> float:  # the k-th smallest, from 0
        return float(low + int(np.searchsorted(cumulative, k, side="right")))

    out = []
    for virtual in (n - 1) * np.true_divide(np.asarray(pcts, dtype=np.float64), 100):
        previous = float(np.floor(virtual))
        if virtual >= n - 1:  # numpy: both neighbours are the last value, index -1
            a = b = order_statistic(n - 1)
            previous = -1.0
        else:
            a, b = order_statistic(int(previous)), order_statistic(int(previous) + 1)
        gamma = float(virtual) - previous
        diff = b - a
        out.append(b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma)
    return out
