"""Generated rasters with real CRSs and transforms for the tile stage's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import ColorInterp
from rasterio.transform import from_origin


def textured(shape: tuple[int, ...], dtype: str, seed: int) -> np.ndarray:
    """Seeded data that is far from uniform, spanning a dtype-typical range."""
    rng = np.random.default_rng(seed)
    base = rng.random(shape)
    lo, hi = {
        "uint8": (1, 254),
        "uint16": (100, 12000),
        "int16": (-800, 3000),
        "float32": (-0.1, 0.9),
        "float64": (0.0, 2000.0),
    }[dtype]
    return (lo + base * (hi - lo)).astype(dtype)


def write_raster(
    path: Path,
    data: np.ndarray,
    *,
    crs: str | None = "EPSG:32633",
    transform=None,
    nodata=None,
    colorinterp: tuple[str, ...] | None = None,
    mask: np.ndarray | None = None,
) -> Path:
    count, height, width = data.shape
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": data.dtype.name,
        "transform": transform or from_origin(400_000, 5_000_000, 10, 10),
    }
    if crs:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        if colorinterp:
            dst.colorinterp = [ColorInterp[c] for c in colorinterp]
        if mask is not None:
            dst.write_mask(mask.astype(np.uint8) * 255)
    return path
