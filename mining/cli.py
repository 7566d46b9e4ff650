"""CLI of the tile stage: ``blindpairs tile`` and ``blindpairs example-scenes``."""

from __future__ import annotations

import argparse
import sys

from blindpairs.commands import Command, add_compute_options, record_params, stage_params
from blindpairs.config import add_options
from mining.params import TileParams


def _tile_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "scenes",
        nargs="*",
        help="scene files, folders, globs ('data/*.tif'), GDAL URIs (/vsicurl/..., s3://...) or "
        ".txt files listing them; default: the 'scenes' list of the config file's tile section",
    )
    p.add_argument("--force", action="store_true", help="re-tile every scene, changed or not")
    p.add_argument(
        "--drop-failed",
        action="store_true",
        help="when the tiling changed and a scene cannot be re-tiled (file gone, fails with "
        "the new options), remove its old tiles instead of refusing (exit 2, nothing done)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when any scene failed (default: only when no scene could be tiled)",
    )
    add_options(p, TileParams)
    add_compute_options(p)


def _tile(args: argparse.Namespace) -> int:
    from blindpairs.config import load_config
    from blindpairs.errors import ConfigError
    from blindpairs.terminal import terminal_safe
    from mining.stage import run_tiles

    section = dict(load_config(args.config).get("tile", {}))
    scenes = args.scenes or section.pop("scenes", None) or []
    if isinstance(scenes, str):
        scenes = [scenes]
    if not scenes:
        raise ConfigError(
            "no scenes given: pass paths/globs/URIs, or 'scenes:' in the tile section"
        )
    params = stage_params(args, "tile", TileParams, section=section)
    summary = run_tiles(
        args.workspace,
        [str(s) for s in scenes],
        params,
        scheduler=args.scheduler,
        workers=args.workers,
        force=args.force,
        quiet=args.quiet,
        drop_failed=args.drop_failed,
    )
    record_params(args, "tile", params)
    for line in summary.lines():  # scene paths can hold any character: escape them
        out = sys.stderr if line.startswith("FAILED") else sys.stdout
        print(f"tile: {terminal_safe(line, limit=2000)}", file=out)
    nothing_good = not (summary.new or summary.changed or summary.unchanged)
    return 1 if summary.failed and (args.strict or nothing_good) else 0


def _example_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="where to write the example GeoTIFFs")


def _example(args: argparse.Namespace) -> int:
    from mining.example import write_example_scenes

    for path in write_example_scenes(args.folder):
        print(path)
    return 0


COMMANDS = [
    Command(
        "tile",
        "tile scenes into georeferenced GeoParquet tiles (PNG inside)",
        _tile_args,
        _tile,
        description="Cut satellite scenes into tiles: <workspace>/tiles/part-<scene>.parquet "
        "(GeoParquet, footprints in EPSG:4326, 8-bit RGB PNG bytes). Re-running skips scenes whose "
        "file and tiling options are unchanged, re-tiles changed ones and adds new ones.",
    ),
    Command(
        "example-scenes",
        "write the built-in example scenes (small generated GeoTIFFs) into a folder",
        _example_args,
        _example,
    ),
]
