"""Opening a scene georeferenced: its geotransform and CRS, or its GCPs through a warped VRT.

Rules (one per way a raster can be georeferenced):

- geotransform + CRS: read as is.
- GCPs with a CRS and no geotransform (common in Level-1 products): read through
  GDAL's GCP transformer as a north-up warped VRT in the GCPs' CRS (nearest
  neighbour, the source's resolution); the area outside the source is invalid
  (an alpha band; for complex data zero amplitude, as everywhere).
  Tiles, windows and footprints are those of the VRT's grid.
- RPCs only: refused. Footprints from RPCs need a DEM to be right, so the scene
  must be orthorectified first (the message gives the ``gdalwarp`` command).
- a geotransform without CRS, GCPs without CRS, or nothing: refused, and the
  message says which is missing and a command that fixes it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _problem(ds: Any) -> str | None:
    """Why ``ds`` cannot be tiled as it is, or None when it can (directly or via GCPs)."""
    has_transform = not ds.transform.is_identity
    gcps, gcp_crs = ds.gcps
    if has_transform:
        if ds.crs is None:
            return (
                "scene has a geotransform but no CRS: set it with "
                "`gdal_edit.py -a_srs EPSG:XXXX <file>` (the EPSG code of its coordinates)"
            )
        return None
    if gcps:
        if gcp_crs is None:
            return (
                f"scene has {len(gcps)} GCPs but no CRS for them: set it with "
                "`gdal_edit.py -a_srs EPSG:XXXX <file>` (the EPSG code of the GCPs' x/y)"
            )
        return None
    if ds.rpcs is not None:
        return (
            "scene is georeferenced by RPCs only, which need a DEM for correct footprints; "
            "orthorectify it first: `gdalwarp -rpc -to RPC_DEM=<dem.tif> -t_srs EPSG:4326 "
            "<file> <out.tif>` (without a DEM, `-rpc` alone assumes a constant height)"
        )
    return (
        "scene has no georeference (no CRS, geotransform, GCPs or RPCs): give it one, e.g. "
        "`gdal_translate -a_srs EPSG:XXXX -a_ullr ULX ULY LRX LRY <file> <out.tif>`"
    )


@contextmanager
def open_scene(uri: str) -> Iterator[tuple[Any, str | None]]:
    """Open ``uri`` georeferenced: ``(dataset, note)``, the note saying how when it is not
    by its own geotransform. Raises ``ValueError`` with the reason and a fix otherwise."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.vrt import WarpedVRT

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        ds = rasterio.open(uri)
    with ds:
        problem = _problem(ds)
        if problem:
            raise ValueError(problem)
        if not ds.transform.is_identity:
            yield ds, None
            return
        gcps, gcp_crs = ds.gcps
        if ds.nodata is not None:
            outside: dict[str, Any] = {}  # the source's nodata marks it
        elif any("complex" in t for t in ds.dtypes):
            outside = {"nodata": 0}  # zero amplitude, invalid for complex data anyway
        else:
            outside = {"add_alpha": True}
        with WarpedVRT(ds, crs=gcp_crs, **outside) as vrt:
            note = (
                f"georeferenced by its {len(gcps)} GCPs: tiled from a warped VRT in "
                f"{gcp_crs.to_string()} ({vrt.width}x{vrt.height} px; outside the source is "
                "invalid)"
            )
            yield vrt, note
