"""CLI of the tile stage: ``blindpairs tile`` and ``blindpairs example-scenes``."""

from __future__ import annotations

import argparse
import sys

from blindpairs.commands import Command, add_compute_options, record_params, stage_options
from blindpairs.config import add_options
from mining.params import TileParams

STAGE = "tile"


def _tile_args(p: argparse.ArgumentParser) -> None:
    add_options(p, TileParams)
    add_compute_options(p)


def _tile(args: argparse.Namespace) -> int:
    from blindpairs.terminal import terminal_safe
    from mining.stage import check, run

    params, compute = stage_options(args, STAGE, TileParams, compute=True, check=check)
    summary = run(args.workspace, params, compute)
    record_params(args, STAGE, params, compute)
    for line in summary.lines():  # scene paths can hold any character: escape them
        out = sys.stderr if line.startswith("FAILED") else sys.stdout
        print(f"tile: {terminal_safe(line, limit=2000)}", file=out)
    nothing_good = not (summary.new or summary.changed or summary.unchanged)
    return 1 if summary.failed and (params.strict or nothing_good) else 0


def _example_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="where to write the example GeoTIFFs")


def _example(args: argparse.Namespace) -> int:
    from mining.example import write_example_scenes

    for path in write_example_scenes(args.folder):
        print(path)
    return 0


COMMANDS = [
    Command(
        STAGE,
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
