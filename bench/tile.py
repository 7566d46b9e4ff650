"""Tile-stage throughput against a plain rasterio read of the same pixels.

Generates a large tiled GeoTIFF (default 20000 x 20000, 4-band uint16; with
``--overviews`` also internal overviews, as a COG has), then in separate
processes (so each peak memory is its own):

- baseline: a plain windowed rasterio read of every tile's pixels, nothing else;
- blindpairs: the tile stage (plan, stretch, validity, PNG, footprints,
  GeoParquet) on a local Dask cluster;
- cut: the same scene planned (``plan_scene`` without the content hash: the
  statistics read; then the hash; each timed alone), then only the tiles cut
  (``tile_chunk`` on every chunk, in ``--workers`` threads; nothing written):
  the per-tile work.

The stage's CPU time is also split by thread (tiling threads, content hash, main
thread: cluster start and the Parquet writer; Dask's event loop), sampled from /proc.

Module imports (rasterio, Dask) are outside every timing. Prints tiles/s,
source MB/s, the ratio of each to the baseline, and peak RSS of each; beside
each ratio, the same ratio in process CPU time per tile (all threads), which
a machine shared with other jobs disturbs far less than wall time.

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


def make_scene(path: Path, side: int, bands: int = 4, overviews: bool = False) -> None:
    import rasterio
    from rasterio.enums import Resampling
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
        if overviews:
            dst.build_overviews([2, 4, 8, 16], Resampling.average)


def baseline(path: str, size: int) -> dict:
    import rasterio
    from rasterio.windows import Window

    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    with rasterio.open(path) as ds:
        for r in range(0, ds.height - size + 1, size):
            for c in range(0, ds.width - size + 1, size):
                ds.read([1, 2, 3], window=Window(c, r, size, size))
                n += 1
    return {"tiles": n, "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}


def _params(size: int, level: int):  # noqa: ANN202 - TileParams, imported late
    from mining.params import TileParams

    return TileParams(size=size, min_std=0.0, max_saturated=1.0, png_compression=level)


# Threads of the stage's process, by name, as the CPU split groups them.
THREAD_GROUPS = (
    ("Dask-Default-Threads", "tiling threads (plan, content hash, cut)"),
    ("content-hash", "content hash (plan_scene's own)"),
    ("MainThread", "main thread (cluster start, Parquet writer)"),
    ("IO loop", "Dask event loop"),
)


class ThreadCPU:
    """CPU seconds of this process's threads by group while in the ``with`` block (/proc,
    sampled every 50 ms: a thread that ends counts up to its last sample; Linux only)."""

    def __init__(self) -> None:
        import threading

        self._last: dict[int, tuple[str, float]] = {}
        self._start: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def __enter__(self) -> ThreadCPU:
        self._sample()  # threads alive now (the main thread: imports) count from here
        self._start = {tid: cpu for tid, (_, cpu) in self._last.items()}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self._sample()

    def _sample(self) -> None:
        import threading

        tick = os.sysconf("SC_CLK_TCK")
        names = {t.native_id: t.name for t in threading.enumerate()}
        for tid in os.listdir("/proc/self/task"):
            try:
                stat = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1]
                name = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
            except OSError:
                continue
            fields = stat.split()
            # a thread ending leaves Python's list before /proc: keep the name it had
            known = self._last.get(int(tid), (name, 0.0))[0]
            name = names.get(int(tid), known)
            self._last[int(tid)] = (name, (int(fields[11]) + int(fields[12])) / tick)

    def split(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for tid, (name, cpu) in self._last.items():
            cpu -= self._start.get(tid, 0.0)
            group = next((g for prefix, g in THREAD_GROUPS if prefix in name), "other")
            if name != "bench-sampler":
                out[group] = out.get(group, 0.0) + cpu
        return out


def blindpairs(path: str, size: int, workspace: str, workers: int, level: int) -> dict:
    import dataclasses

    import distributed  # noqa: F401 - imported outside the timing, as rasterio is for the baseline
    import rasterio  # noqa: F401

    from blindpairs.compute import Compute
    from blindpairs.workspace import Workspace
    from mining.stage import run

    params = dataclasses.replace(_params(size, level), scenes=(path,))
    with ThreadCPU() as threads:
        t0, c0 = time.perf_counter(), time.process_time()
        summary = run(Workspace(workspace), params, Compute(workers=workers, quiet=True))
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    parts = list((Path(workspace) / "tiles").glob("part-*.parquet"))
    return {
        "tiles": summary.tiles_written + sum(summary.dropped.values()),
        "seconds": seconds,
        "cpu": cpu,
        "part_mb": sum(p.stat().st_size for p in parts) / 1e6,
        "cpu_split": threads.split(),
    }


def cut(path: str, size: int, workers: int, level: int) -> dict:
    """Plan the scene and hash it (each timed alone), then cut every tile in ``workers``
    threads."""
    import dataclasses
    from concurrent.futures import ThreadPoolExecutor

    import rasterio  # noqa: F401

    from mining.plan import plan_scene
    from mining.scenes import SceneRef, content_hash
    from mining.tiler import chunk_tasks, tile_chunk

    params = _params(size, level)
    ref = SceneRef(path, "bench")
    t0, c0 = time.perf_counter(), time.process_time()
    plan = plan_scene(ref, params, defer_hash=True)
    planned, plan_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    plan = dataclasses.replace(plan, content=content_hash(ref))
    hashed, hash_cpu = time.perf_counter() - t0, time.process_time() - c0
    thresholds = {
        "min_valid": params.min_valid,
        "min_std": params.min_std,
        "max_saturated": params.max_saturated,
        "png_compression": level,
    }
    tasks = chunk_tasks(plan, params.tiles_per_task(), **thresholds)
    t0, c0 = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(workers) as pool:
        tiles = sum(r.table.num_rows + sum(r.dropped.values()) for r in pool.map(tile_chunk, tasks))
    return {
        "tiles": tiles,
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "plan_seconds": planned,
        "plan_cpu": plan_cpu,
        "hash_seconds": hashed,
        "hash_cpu": hash_cpu,
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


def _side(scene: Path) -> int:
    import rasterio

    with rasterio.open(scene) as ds:
        return ds.width


def _overviews(scene: Path) -> str:
    import rasterio

    with rasterio.open(scene) as ds:
        return "with overviews" if ds.overviews(1) else "no overviews"


def _per_tile(run: dict, key: str) -> float:
    return run[key] / run["tiles"]


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
    ap.add_argument(
        "--overviews", action="store_true", help="give the scene internal overviews (as a COG)"
    )
    ap.add_argument(
        "--scene",
        type=Path,
        help="scene file to use: made there (and kept) when missing, else reused as it is "
        "(--side and --overviews are then ignored)",
    )
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, rest = args.child[0], args.child[1:]
        if kind == "baseline":
            res = baseline(rest[0], int(rest[1]))
        elif kind == "cut":
            res = cut(rest[0], int(rest[1]), int(rest[2]), int(rest[3]))
        else:
            res = blindpairs(rest[0], int(rest[1]), rest[2], int(rest[3]), int(rest[4]))
        res["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(res))
        return
    workers = args.workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        scene = args.scene or Path(tmp) / "big.tif"
        t0 = time.perf_counter()
        made = not scene.exists()
        if made:
            make_scene(scene, args.side, overviews=args.overviews)
        side = _side(scene)
        mb = side * side * 3 * 2 / 1e6  # the three RGB bands read, uint16
        gb = scene.stat().st_size / 1e9
        how = f"made in {time.perf_counter() - t0:.1f}s" if made else f"reused: {scene}"
        print(f"scene {side}^2 x4 uint16 ({_overviews(scene)}): {gb:.2f} GB, {how}")
        base = _child("baseline", str(scene), str(args.size))
        runs = [("plain rasterio read", base)]
        for level in [int(v) for v in args.png_compression.split(",")]:
            ws = str(Path(tmp) / f"ws{level}")
            ours = _child("blindpairs", str(scene), str(args.size), ws, str(workers), str(level))
            runs.append((f"blindpairs tile png {level}", ours))
            only = _child("cut", str(scene), str(args.size), str(workers), str(level))
            runs.append((f"cut only png {level}", only))
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
            f"   (CPU time per tile: {_per_tile(base, 'cpu') / _per_tile(ours, 'cpu'):.3f})"
        )
    for name, ours in runs[1:]:
        if "cpu_split" in ours:
            split = ", ".join(f"{g} {v:.2f}" for g, v in sorted(ours["cpu_split"].items()))
            print(f"CPU seconds by thread ({name}; sampled): {split}")
    for _name, ours in runs[1:]:
        if "plan_seconds" in ours:
            print(
                f"planning the scene (statistics read): {ours['plan_seconds']:.2f}s "
                f"(CPU {ours['plan_cpu']:.2f}) = {ours['plan_seconds'] / base['seconds']:.2f} "
                f"plain reads; content hash: {ours['hash_seconds']:.2f}s "
                f"(CPU {ours['hash_cpu']:.2f}) = {ours['hash_seconds'] / base['seconds']:.2f} "
                "plain reads (the stage runs it beside the cutting)"
            )
    print(
        f"workers: {workers} threads; tile size {args.size}; GDAL_CACHEMAX={CACHE_MB} MB; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
