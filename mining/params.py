"""Parameters of the tile stage (one declaration: flags, config keys, defaults)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields

from blindpairs.config import (
    float_tuple,
    int_tuple,
    option,
    optional_float,
    optional_positive_int,
    str_tuple,
    to_dict,
)
from blindpairs.errors import ConfigError
from mining.bands import PRESETS

# Bump when a code change alters tile pixels or footprints for the same params.
# 2: footprints split at the antimeridian, complex data as amplitude in dB, GCP-only scenes.
# 3: the statistics sample (stretch percentiles, fill detection) decimated by nearest
#    neighbour instead of the tiles' resampling.
TILER_VERSION = 3
# Options of one run (what to tile, redo, exit code), not of the tiling: fields of
# TileParams only, so they stay out of the parts' metadata and the tasks sent to workers,
# which get a TilingParams (``TileParams.tiling_only``). Compute options (scheduler,
# workers) are not params at all.
RUN_OPTIONS = ("scenes", "force", "strict", "drop_failed")
# Options that do not change tiles: left out of the tiling hash.
NOT_TILING = ("png_compression", "chunk", *RUN_OPTIONS)

# Default size of a tile task: its fixed costs (Dask's scheduling, about 1.7 ms of CPU
# here; opening the scene; the footprints' CRS; a Parquet row group) are then small
# against its tiles' (docs/performance.md: 8 tiles of 512 px per task took 10-20% more
# time than 32), and its result (the PNGs) stays bounded in memory.
TASK_BYTES = 24 << 20
TASK_TILES = 64

EDGE_RULES = ("shift", "pad", "drop")
RESAMPLING = ("nearest", "bilinear", "cubic", "average", "lanczos")


def _preset(value: object) -> str | None:
    if value is None or str(value).lower() in {"", "none", "auto"}:
        return None
    name = str(value).lower()
    if name not in PRESETS:
        raise ValueError(f"unknown preset {value!r} (known: {', '.join(sorted(PRESETS))})")
    return name


@dataclass(frozen=True)
class TilingParams:
    """How scenes become tiles. Every field except ``png_compression`` and ``chunk`` is
    part of the ``tiling`` hash, so changing it re-tiles the scenes."""

    size: int = option(512, "tile side in output pixels (MLLM-sized input)")
    stride: int | None = option(
        None, "step between tiles in output pixels (default: size, no overlap)", parse=int
    )
    bands: tuple[int, ...] = option(
        (), "1-based source bands for R,G,B, e.g. 4,3,2 (default: auto)", parse=int_tuple
    )
    preset: str | None = option(
        None,
        "band preset of a known product: " + ", ".join(sorted(PRESETS)),
        parse=_preset,
        metavar="NAME",
    )
    percentiles: tuple[float, ...] = option(
        (2.0, 98.0), "per-scene stretch percentiles for non-8-bit data", parse=float_tuple
    )
    scale_factor: float | None = option(
        None,
        "fixed stretch instead of percentiles: out = value * factor (e.g. 0.0255 "
        "for reflectance 0..10000)",
        parse=optional_float,
    )
    stretch_uint8: bool = option(False, "stretch 8-bit scenes too (default: pass through)")
    gsd: float | None = option(
        None, "target ground sample distance in metres (resample on read)", parse=optional_float
    )
    resampling: str = option(
        "average", "resampling when --gsd differs from the source", choices=RESAMPLING
    )
    edge: str = option(
        "shift",
        "edge rule: shift = last tile aligned to the scene edge (no loss, some overlap); "
        "pad = partial tiles padded as invalid; drop = partial tiles dropped (edges lost)",
        choices=EDGE_RULES,
    )
    nodata: float | None = option(
        None,
        "source value that means no data, overriding the file's (e.g. 0 for an undeclared "
        "black border; nan allowed)",
        parse=optional_float,
        metavar="VALUE",
    )
    detect_fill: bool = option(
        True,
        "when the file declares no nodata, mask or alpha, treat a usual fill value (0, 1, "
        "-9999, type min/max but not 8-bit 255) covering 30% or more of the scene border "
        "and a corner as nodata (noted)",
    )
    min_valid: float = option(0.9, "drop tiles whose valid fraction is below this")
    min_std: float = option(3.0, "drop near-uniform tiles: luminance std below this (0..255)")
    max_saturated: float = option(
        0.6, "drop tiles with more than this fraction of near-white pixels (cloud, glare)"
    )
    png_compression: int = option(
        0,
        "PNG zlib level 0-9 (pixels unchanged): 0 stores (fastest; the Parquet part's zstd "
        "keeps the file about as small as level 1), 1-9 deflate with the Sub filter",
    )
    chunk: int | None = option(
        None,
        "tiles per Dask task (default: about 24 MB of tile pixels, at most 64 tiles: 32 "
        "tiles of 512 px, 8 of 1024 px)",
        parse=optional_positive_int,
    )

    def __post_init__(self) -> None:
        problems = []
        if self.size < 16:
            problems.append(f"size must be >= 16, got {self.size}")
        if self.stride is not None and self.stride < 1:
            problems.append(f"stride must be >= 1, got {self.stride}")
        if self.bands and (len(self.bands) not in (1, 3) or min(self.bands) < 1):
            problems.append(f"bands must be 1 or 3 band numbers >= 1, got {self.bands}")
        if self.bands and self.preset:
            problems.append("give either bands or preset, not both")
        lo_hi = self.percentiles
        if len(lo_hi) != 2 or not 0 <= lo_hi[0] < lo_hi[1] <= 100:
            problems.append(f"percentiles must be two numbers 0 <= lo < hi <= 100, got {lo_hi}")
        if self.scale_factor is not None and self.scale_factor <= 0:
            problems.append(f"scale_factor must be > 0, got {self.scale_factor}")
        if self.gsd is not None and self.gsd <= 0:
            problems.append(f"gsd must be > 0 metres, got {self.gsd}")
        if not 0 <= self.min_valid <= 1:
            problems.append(f"min_valid must be in [0, 1], got {self.min_valid}")
        if not 0 < self.max_saturated <= 1:
            problems.append(f"max_saturated must be in (0, 1], got {self.max_saturated}")
        if not 0 <= self.png_compression <= 9:
            problems.append(f"png_compression must be 0..9, got {self.png_compression}")
        if self.chunk is not None and self.chunk < 1:
            problems.append(f"chunk must be >= 1, got {self.chunk}")
        if problems:
            raise ConfigError("tile options: " + "; ".join(problems))

    @property
    def step(self) -> int:
        return self.stride or self.size

    def tiles_per_task(self) -> int:
        """``chunk``, or by default as many tiles as :data:`TASK_BYTES` of RGB pixels hold
        (1 to :data:`TASK_TILES`)."""
        if self.chunk is not None:
            return self.chunk
        return max(1, min(TASK_TILES, TASK_BYTES // (3 * self.size * self.size)))

    def tiling_hash(self) -> str:
        """Hash of everything that changes tile pixels, ids or the kept set."""
        d = to_dict(self)
        for key in NOT_TILING:
            d.pop(key, None)
        d["version"] = TILER_VERSION
        return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class TileParams(TilingParams):
    """Options of ``blindpairs tile``: the tiling, and the run's own (:data:`RUN_OPTIONS`)."""

    scenes: tuple[str, ...] = option(
        (),
        "scene files, folders, globs ('data/*.tif'), GDAL URIs (/vsicurl/..., s3://...) or "
        ".txt files listing them",
        parse=str_tuple,
        positional=True,
    )
    force: bool = option(
        False,
        "re-tile every scene, changed or not (a flag is for this run only: config.yaml "
        "keeps the config file's value)",
        once=True,
    )
    strict: bool = option(
        False, "exit 1 when any scene failed (default: only when no scene could be tiled)"
    )
    drop_failed: bool = option(
        False,
        "when the tiling changed and a scene cannot be re-tiled (file gone, fails with the "
        "new options), remove its old tiles instead of refusing (exit 2, nothing done); a "
        "flag is for this run only: config.yaml keeps the config file's value",
        once=True,
    )

    def tiling_only(self) -> TilingParams:
        """The tiling options alone, without the run's own (:data:`RUN_OPTIONS`)."""
        return TilingParams(**{f.name: getattr(self, f.name) for f in fields(TilingParams)})
