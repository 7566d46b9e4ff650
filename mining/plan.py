"""Planning one scene (runs on a Dask worker): checks, band choice, stretch, grid."""

from __future__ import annotations

import contextlib
import hashlib
import math
from dataclasses import dataclass, replace

import numpy as np

from mining.bands import choose_bands
from mining.fill import border_fill
from mining.footprint import pixel_size_m
from mining.georef import open_scene
from mining.grid import tile_windows
from mining.params import TilingParams
from mining.radiometry import IDENTITY, Stretch, percentile_stretch, scale_stretch
from mining.reading import PixelSource, read_sample
from mining.scenes import SceneRef, hashing, symlink_loop

# Longest side of the decimated read used for statistics (GDAL uses overviews when present).
STATS_SIDE = 1024
# That sample is decimated by nearest neighbour (``read_sample``): it picks source pixels,
# so its percentiles estimate the pixels' own (a block mean narrows the histogram, and the
# stretch would clip more than its percentiles say).


@dataclass(frozen=True)
class ScenePlan:
    """Everything a tile task needs to cut one scene, computed once per scene."""

    ref: SceneRef
    content: str | None  # None: not hashed yet (``plan_scene(defer_hash=True)``)
    tiling: str
    crs_wkt: str
    proj_code: str
    transform: tuple[float, ...]
    width: int
    height: int
    source: PixelSource
    stretch: Stretch
    win: int
    size: int
    gsd_m: float  # x
    gsd_y_m: float
    windows: tuple[tuple[int, int], ...]
    lost_pixels: int
    band_how: str
    notes: tuple[str, ...]

    @property
    def id_suffix(self) -> str:
        """Short hash of scene content and tiling: part of every tile id."""
        if self.content is None:
            raise ValueError(f"{self.ref.uri}: the scene's content hash is not known yet")
        return hashlib.sha1(f"{self.content}|{self.tiling}".encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Unchanged:
    """The scene's content hash equals the one already tiled."""

    ref: SceneRef
    content: str


@dataclass(frozen=True)
class SceneFailure:
    ref: SceneRef
    reason: str


def _proj_code(crs) -> str:  # noqa: ANN001
    epsg = crs.to_epsg()
    if epsg:
        return f"EPSG:{epsg}"
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.to_wkt()


def _mask_mode(ds, alpha: int | None, nodata: float | None) -> str:  # noqa: ANN001
    from rasterio.enums import MaskFlags

    if alpha is not None:
        return "alpha"
    if nodata is not None:
        return "nodata"
    flags = ds.mask_flag_enums[0]
    if MaskFlags.per_dataset in flags and MaskFlags.alpha not in flags:
        return "dataset"
    return "none"


def _dtype_max(dtype: str) -> float:
    return float(np.iinfo(dtype).max) if np.issubdtype(np.dtype(dtype), np.integer) else 1.0


def plan_scene(  # noqa: ANN201
    ref: SceneRef,
    params: TilingParams,
    known_content: str | None = None,
    *,
    defer_hash: bool = False,
):
    """Plan ``ref``: a :class:`ScenePlan`, :class:`Unchanged` or :class:`SceneFailure`.

    The file's content hash is computed beside the statistics read, after it when
    ``known_content`` may show it unchanged; with ``defer_hash`` (and no
    ``known_content``) it is not computed: the plan's ``content`` is None and the caller
    hashes the file (the tile stage does, beside the cutting)."""
    try:
        return _plan(ref, params, known_content, defer_hash)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded with its reason
        loop = symlink_loop(ref.uri) if ref.is_local else None
        return SceneFailure(ref, loop or _reason(exc))


def _reason(exc: Exception) -> str:
    from rasterio.errors import RasterioIOError

    if isinstance(exc, (FileNotFoundError, RasterioIOError)):
        return f"not a readable raster: {exc}"
    return str(exc) or type(exc).__name__


def _plan(ref: SceneRef, params: TilingParams, known_content: str | None, defer_hash: bool):  # noqa: ANN202
    # the file is hashed in a thread while its pixels are read (first when it may be unchanged)
    if defer_hash and known_content is None:
        hashed = contextlib.nullcontext(lambda: None)
    else:
        hashed = hashing(ref, like=known_content)
    with open_scene(ref.uri) as (ds, georef_note), hashed as content_of:
        if known_content is not None and content_of() == known_content:
            return Unchanged(ref, known_content)
        notes = [georef_note] if georef_note else []
        choice, source, sample, valid = _pixels(ds, params, notes)
        stretch = _stretch(ds.dtypes[0], sample, valid, params)
        src_px, src_px_y = _pixel_size(ds, notes)
        win, windows, lost = _grid(ds, params, src_px, notes)
        return ScenePlan(
            ref=ref,
            content=content_of(),
            tiling=params.tiling_hash(),
            crs_wkt=ds.crs.to_wkt(),
            proj_code=_proj_code(ds.crs),
            transform=tuple(ds.transform)[:6],
            width=ds.width,
            height=ds.height,
            source=source,
            stretch=stretch,
            win=win,
            size=params.size,
            gsd_m=src_px * win / params.size,
            gsd_y_m=src_px_y * win / params.size,
            windows=tuple(windows),
            lost_pixels=lost,
            band_how=choice.how,
            notes=(*choice.notes, *notes),
        )


def _pixels(ds, params: TilingParams, notes: list[str]):  # noqa: ANN001, ANN202
    """The band choice, how pixels are read and masked (fill detection included), and a
    decimated sample (nearest neighbour, whatever the tiles' resampling) with its validity:
    the statistics' input; notes go to ``notes``."""
    scale_down = max(ds.width, ds.height) / STATS_SIDE
    sh = (
        max(1, round(ds.height / max(scale_down, 1))),
        max(1, round(ds.width / max(scale_down, 1))),
    )
    colorinterp = [ci.name.lower() for ci in ds.colorinterp]
    declared_alpha = [i + 1 for i, ci in enumerate(colorinterp) if ci == "alpha"]
    alpha_values = {b: ds.read(b, out_shape=sh) for b in declared_alpha}
    choice = choose_bands(
        colorinterp, params.bands, params.preset, alpha_values, _dtype_max(ds.dtypes[0])
    )
    nodata = params.nodata if params.nodata is not None else ds.nodata
    source = PixelSource(
        rgb=choice.rgb,
        mask=_mask_mode(ds, choice.alpha, nodata),
        alpha=choice.alpha,
        nodata=nodata,
        resampling=params.resampling,
    )
    if params.nodata is not None:
        declared = "none" if ds.nodata is None else f"{ds.nodata:g}"
        notes.append(f"--nodata {params.nodata:g} used (the file declares {declared})")
    sample, valid = read_sample(ds, source, sh)
    if source.mask == "none" and params.detect_fill:
        fill = border_fill(sample, ds.dtypes[0])
        if fill is not None:
            source = replace(source, mask="nodata", nodata=fill.value)
            valid &= ~np.all(sample == fill.value, axis=0)
            notes.append(fill.note())
    if not valid.any():
        raise ValueError("every pixel is nodata or masked")
    return choice, source, sample, valid


def _pixel_size(ds, notes: list[str]) -> tuple[float, float]:  # noqa: ANN001
    """The source pixel's x and y size in metres at the scene centre."""
    from rasterio.warp import transform as warp_transform

    cx, cy = ds.transform * (ds.width / 2, ds.height / 2)
    _, (center_lat,) = warp_transform(ds.crs, "EPSG:4326", [cx], [cy])
    src_px, src_px_y = pixel_size_m(ds.transform, ds.crs, center_lat)
    if not math.isclose(src_px, src_px_y, rel_tol=0.01):  # 1%: not lat/lon rounding
        notes.append(
            f"non-square pixels ({src_px:.4g} x {src_px_y:.4g} m): gsd_m is the x size; "
            "both are in the part's metadata (gsd_xy_m)"
        )
    return src_px, src_px_y


def _grid(ds, params: TilingParams, src_px: float, notes: list[str]):  # noqa: ANN001, ANN202
    """The window side in source pixels, the windows and the edge pixels left out."""
    scale = params.gsd / src_px if params.gsd else 1.0
    win = max(1, round(params.size * scale))
    step = max(1, round(params.step * scale))
    try:
        windows, lost = tile_windows(ds.width, ds.height, win, step, params.edge)
    except ValueError as exc:
        raise ValueError(
            f"{exc}: the scene is {ds.width}x{ds.height} px; use a smaller --size, a finer "
            "(smaller) --gsd, or --edge pad with a --min-valid below the scene's share of "
            "the padded tile"
        ) from None
    covered = min(ds.width, win) * min(ds.height, win) / (win * win)
    if covered < 1 and covered < params.min_valid:
        notes.append(
            f"scene is smaller than one tile: padded tiles are at most {covered:.0%} valid, "
            f"below --min-valid {params.min_valid:g}; lower it to keep them"
        )
    return win, windows, lost


def _stretch(dtype: str, sample: np.ndarray, valid: np.ndarray, params: TilingParams) -> Stretch:
    if params.scale_factor is not None:
        return scale_stretch(params.scale_factor)
    if dtype == "uint8" and not params.stretch_uint8:
        return IDENTITY
    lo, hi = params.percentiles
    st = percentile_stretch(sample, valid, lo, hi)
    if not all(math.isfinite(g) for g in st.gain):
        raise ValueError("could not compute a finite stretch")
    return st
