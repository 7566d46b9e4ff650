"""Tile-stage throughput against a plain rasterio read of the same pixels.

Generates a large tiled GeoTIFF (default 20000 x 20000, 4-band uint16), then in
separate processes (so each peak memory is its own):

- baseline: a plain windowed rasterio read of every tile's pixels, nothing else;
- blindpairs: the tile stage (stretch, validity, PNG, footprints, GeoParquet) on a
  local Dask cluster.

Prints tiles/s, source MB/s, the ratio to the baseline, and peak RSS of each.

    .venv/bin/python -m bench.tile --side 20000 --size 512   # from the repository root
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def make_scene(path: Path, side: int, bands: int = 4) -> None:
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    profile = {
        "driver": "GTiff",
        "width": side,
        "height": side,
        "count": bands,
        "dtype": "uint16",
        "crs": "EPSG:32633",
        "transform": from_origin(500_000, 5_400_000, 0.5, 0.5),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "BIGTIFF": "YES",
    }
    rng = np.random.default_rng(0)
    block = 2048
    with rasterio.open(path, "w", **profile) as dst:
        for r in range(0, side, block):
            for c in range(0, side, block):
                h, w = min(block, side - r), min(block, side - c)
                yy, xx = np.mgrid[r : r + h, c : c + w].astype(np.float32)
                base = 3000 + 1500 * np.sin(xx / 97.0) * np.cos(yy / 131.0)
                data = base[None] + rng.normal(0, 300, (bands, h, w)).astype(np.float32)
                dst.write(np.clip(data, 0, 65535).astype(np.uint16), window=Window(c, r, w, h))


def baseline(path: str, size: int) -> dict:
    import rasterio
    from rasterio.windows import Window

    t0 = time.perf_counter()
    n = 0
    with rasterio.open(path) as ds:
        for r in range(0, ds.height - size + 1, size):
            for c in range(0, ds.width - size + 1, size):
                ds.read([1, 2, 3], window=Window(c, r, size, size))
                n += 1
    return {"tiles": n, "seconds": time.perf_counter() - t0}


def blindpairs(path: str, size: int, workspace: str, workers: int, level: int) -> dict:
    from blindpairs.compute import Compute
    from blindpairs.workspace import Workspace
    from mining.params import TileParams
    from mining.stage import run

    params = TileParams(
        size=size, min_std=0.0, max_saturated=1.0, png_compression=level, scenes=(path,)
    )
    t0 = time.perf_counter()
    summary = run(Workspace(workspace), params, Compute(workers=workers, quiet=True))
    seconds = time.perf_counter() - t0
    parts = list((Path(workspace) / "tiles").glob("part-*.parquet"))
    return {
        "tiles": summary.tiles_written + sum(summary.dropped.values()),
        "seconds": seconds,
        "part_mb": sum(p.stat().st_size for p in parts) / 1e6,
    }


# GDAL's block cache (default 5% of RAM) is the largest memory user of both runs;
# fixing it shows that the rest does not grow with the scene.
CACHE_MB = 256


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM; unlike ru_maxrss it is not
    inherited from the parent across fork/exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(kind: str, *args: str) -> dict:
    env = {**os.environ, "GDAL_CACHEMAX": str(CACHE_MB)}
    out = subprocess.run(
        [sys.executable, "-m", "bench.tile", "--child", kind, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    if out.returncode:
        sys.exit(f"{kind} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--side", type=int, default=20000, help="scene side in pixels")
    ap.add_argument("--size", type=int, default=512, help="tile side in pixels")
    ap.add_argument("--workers", type=int, default=None, help="local Dask threads (default: CPUs)")
    ap.add_argument(
        "--png-compression", default="0,1", help="tile stage PNG levels to run (comma-separated)"
    )
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, rest = args.child[0], args.child[1:]
        res = (
            baseline(rest[0], int(rest[1]))
            if kind == "baseline"
            else blindpairs(rest[0], int(rest[1]), rest[2], int(rest[3]), int(rest[4]))
        )
        res["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(res))
        return
    workers = args.workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        scene = Path(tmp) / "big.tif"
        t0 = time.perf_counter()
        make_scene(scene, args.side)
        mb = args.side * args.side * 3 * 2 / 1e6  # the three RGB bands read, uint16
        gb = scene.stat().st_size / 1e9
        print(f"scene {args.side}^2 x4 uint16: {gb:.2f} GB in {time.perf_counter() - t0:.1f}s")
        base = _child("baseline", str(scene), str(args.size))
        runs = [("plain rasterio read", base)]
        for level in [int(v) for v in args.png_compression.split(",")]:
            ws = str(Path(tmp) / f"ws{level}")
            ours = _child("blindpairs", str(scene), str(args.size), ws, str(workers), str(level))
            runs.append((f"blindpairs tile png {level}", ours))
    for name, r in runs:
        extra = f"  tiles part {r['part_mb']:.0f} MB" if "part_mb" in r else ""
        print(
            f"{name:22s} {r['tiles']:6d} tiles {r['seconds']:8.2f}s  "
            f"{r['tiles'] / r['seconds']:8.1f} tiles/s  "
            f"{mb / r['seconds']:8.1f} MB/s  peak RSS {r['peak_rss_mb']:.0f} MB{extra}"
        )
    for name, ours in runs[1:]:
        print(
            f"ratio ({name} / plain read, tiles/s): "
            f"{(ours['tiles'] / ours['seconds']) / (base['tiles'] / base['seconds']):.3f}"
        )
    print(
        f"workers: {workers} threads; tile size {args.size}; GDAL_CACHEMAX={CACHE_MB} MB; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
