"""Benchmark of the mine stage: ``blindpairs mine`` on a workspace vs brute-force NumPy.

Synthetic CLIP vectors (dim 768 or 1024, clustered like real embeddings) and
DINOv2 vectors (dim 1024) with planted CLIP-blind pairs (CLIP cosine ~0.97,
DINOv2 cosine ~-0.9), decoys (both alike) and near-duplicate families (10% of
the tiles, CLIP cosine ~0.96 around the threshold, DINOv2 unrelated: most of
the blind pairs, some split across IVF lists). For each N and dim, each step
in its own process (so the peak memory is the step's own):

- write: a workspace with one tile part (far-apart footprints) and both
  encoders' embedding parts (``--part-size`` tiles a part, float32, as
  ``blindpairs embed`` writes them).
- mine: :func:`pairs.mine.run_mine` on it (``--fresh``; tau_clip 0.95, tau_dino
  0.6, the yield grid at those values): reading the parts, the CLIP search (exact
  FAISS flat up to ``--exact-max`` tiles, IVF above), the DINOv2 check, the
  selection and the files. Wall time and peak RSS of the whole stage.
- numpy: brute-force all pairs (upper triangle in row blocks, X @ X.T) on the
  vectors in memory, at sizes up to ``--baseline-max``.

Reported: wall time, peak RSS, recall of the mined candidates (pairs.parquet's
candidate file, before selection) against the exact blind pairs (the
baseline's where it ran, else those of ``--recall-sample`` tiles by brute
force), planted pairs found, the time ratio numpy/mine, and how the time grows
with N (log-log slope between sizes), the seconds in each step of the stage and
the peak RSS so far when each step ended (the step that raised it).

Usage (repository root): .venv/bin/python -m bench.mine [--sizes 10000,50000] [--dims 768,1024]
(the NumPy baseline takes many minutes at 100k on a 2-core machine; the 1M figure:
``--sizes 1000000 --dims 768 --recall-sample 1000``)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TAU_CLIP, TAU_DINO = 0.95, 0.6
DINO_DIM = 1024


def _unit(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def synthetic(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CLIP and DINOv2 vectors with n/1000 planted blind pairs; returns (clip, dino, planted)."""
    rng = np.random.default_rng(seed)
    centres = _unit(rng.standard_normal((max(1, n // 50), dim), dtype=np.float32))
    clip = np.empty((n, dim), np.float32)
    dino = np.empty((n, DINO_DIM), np.float32)
    step = 65536
    for s in range(0, n, step):
        m = min(step, n - s)
        lab = rng.integers(0, len(centres), m)
        noise = rng.standard_normal((m, dim), dtype=np.float32) * np.float32(0.58 / math.sqrt(dim))
        clip[s : s + m] = _unit(centres[lab] + noise)
        dino[s : s + m] = _unit(rng.standard_normal((m, DINO_DIM), dtype=np.float32))
    # near-duplicate families (10% of tiles, 5 a family, CLIP cosine ~0.96 around the
    # threshold, DINOv2 unrelated): many blind pairs, some split across IVF lists
    fam = rng.choice(n, (n // 50) * 5, replace=False).reshape(-1, 5)
    for s in range(0, len(fam), 4096):
        f = fam[s : s + 4096]
        noise = rng.standard_normal((*f.shape, dim), dtype=np.float32) * np.float32(
            0.2 / math.sqrt(dim)
        )
        clip[f] = _unit((clip[f[:, :1]] + noise).reshape(-1, dim)).reshape(*f.shape, dim)
    p = max(1, n // 1000)
    idx = rng.choice(n, 4 * p, replace=False)
    src, dst = idx[: 2 * p], idx[2 * p :]
    noise = rng.standard_normal((2 * p, dim), dtype=np.float32) * np.float32(0.25 / math.sqrt(dim))
    clip[dst] = _unit(clip[src] + noise)
    dino[dst[:p]] = _unit(
        -dino[src[:p]] + 0.3 * rng.standard_normal((p, DINO_DIM), dtype=np.float32)
    )
    dino[dst[p:]] = _unit(
        dino[src[p:]] + 0.05 * rng.standard_normal((p, DINO_DIM), dtype=np.float32)
    )
    planted = np.sort(np.stack([src[:p], dst[:p]]), axis=0)
    return clip, dino, planted[0] * n + planted[1]


def numpy_pairs(x: np.ndarray, tau: float, block: int = 2048) -> np.ndarray:
    """Brute force: keys a*n+b of every pair a<b with x[a].x[b] >= tau."""
    n = len(x)
    keys = []
    for s in range(0, n, block):
        sims = x[s : s + block] @ x[s:].T
        r, c = np.nonzero(sims >= np.float32(tau))
        a, b = r + s, c + s
        keep = a < b
        keys.append(a[keep].astype(np.int64) * n + b[keep])
    return np.unique(np.concatenate(keys))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tile_id(i: int) -> str:
    return f"t{i:07d}"


CLIP_ID, DINO_ID = "clip:bench-synthetic", "dinov2:bench-synthetic"


def write_workspace(root: Path, n: int, dim: int, part_size: int) -> dict:
    """The synthetic vectors as a workspace: one tile part and both embedding folders."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import shapely

    from blindpairs.workspace import Workspace
    from embeddings.store import write_part

    ws = Workspace(root)
    clip, dino, _ = synthetic(n, dim)
    ids = [_tile_id(i) for i in range(n)]
    i = np.arange(n)
    lon, lat = -170.0 + (i % 3000) * 0.1, -80.0 + (i // 3000) * 0.05
    geoms = shapely.to_wkb(shapely.box(lon, lat, lon + 0.01, lat + 0.01))
    tiles = pa.table(
        {
            "tile_id": ids,
            "scene_id": ["synthetic"] * n,
            "geometry": pa.array(geoms, pa.binary()),
            "gsd_m": np.full(n, 4.3),
            "width": np.full(n, 256, np.int32),
            "height": np.full(n, 256, np.int32),
        }
    )
    ws.tile_part("synthetic").parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(tiles, ws.tile_part("synthetic"))
    for enc, x in ((CLIP_ID, clip), (DINO_ID, dino)):
        meta = {"encoder_id": enc, "weights": "synthetic", "preprocessing": "none"}
        meta["dim"] = x.shape[1]
        folder = ws.encoder_dir(enc)
        folder.mkdir(parents=True, exist_ok=True)
        for k, s in enumerate(range(0, n, part_size)):  # as the embed stage writes them
            part, rows = f"part-{k:06d}.parquet", x[s : s + part_size]
            write_part(folder, part, ids[s : s + part_size], rows, meta, "float32")
    return {"n": n}


def _stage_params(exact_max: int, recall_sample: int) -> object:
    from pairs.params import MineParams

    return MineParams(
        clip=CLIP_ID,
        dino=DINO_ID,
        tau_clip=TAU_CLIP,
        tau_dino=TAU_DINO,
        yield_clip=(TAU_CLIP,),
        yield_dino=(TAU_DINO,),
        exact_max=exact_max,
        recall_sample=recall_sample,
        force=True,
    )


# Steps of the stage timed by wrapping the module attributes the stage calls (the code
# path is unchanged): (module, function).
PHASES = (
    ("pairs.mine", "load_inputs"),
    ("pairs.mine", "_drop_bad_footprints"),
    ("pairs.candidates", "build_lists"),
    ("pairs.candidates", "_check_exactly"),
    ("pairs.candidates", "exact_neighbours"),
    ("pairs.mine", "search_new"),
    ("pairs.mine", "select_pairs"),
)


def _time_phases(phases: dict[str, float], peaks: dict[str, float]) -> None:
    import importlib

    for module_name, name in PHASES:
        module = importlib.import_module(module_name)
        inner = getattr(module, name)

        def timed(*args: object, _inner=inner, _name=name, **kwargs: object) -> object:
            t0 = time.perf_counter()
            try:
                return _inner(*args, **kwargs)
            finally:
                phases[_name] = phases.get(_name, 0.0) + time.perf_counter() - t0
                peaks[_name] = max(peaks.get(_name, 0.0), _peak_mb())

        setattr(module, name, timed)


def run_stage(root: Path, n: int, exact_max: int) -> dict:
    """``blindpairs mine`` on the workspace at ``root`` (the stage's own code path)."""
    from blindpairs.workspace import Workspace
    from pairs.mine import run_mine

    phases: dict[str, float] = {}
    peaks: dict[str, float] = {}
    _time_phases(phases, peaks)
    base_mb = _peak_mb()
    t0 = time.perf_counter()
    summary = run_mine(Workspace(root), _stage_params(exact_max, 500), quiet=True)
    wall = time.perf_counter() - t0
    return {
        "phases": phases,
        "peaks": peaks,
        "method": "mine",
        "n": n,
        "wall_s": wall,
        "peak_mb": _peak_mb(),
        "start_mb": base_mb,
        "plan": summary.plan,
        "stage_recall": summary.recall,
    }


def mined_keys(root: Path, n: int) -> np.ndarray:
    """Keys a*n+b of the candidates the stage found (its candidate file)."""
    from blindpairs import schemas
    from blindpairs.workspace import Workspace

    table = schemas.read_table(Workspace(root).candidates, columns=["tile_a", "tile_b"])
    a = np.array([int(t[1:]) for t in table.column(0).to_pylist()], dtype=np.int64)
    b = np.array([int(t[1:]) for t in table.column(1).to_pylist()], dtype=np.int64)
    return np.minimum(a, b) * n + np.maximum(a, b)


def run_check(root: Path, n: int, dim: int, sample: int) -> dict:
    """Recall of the mined blind pairs against brute force on ``sample`` tiles, and the
    planted pairs found."""
    from pairs.candidates import exact_neighbours, rowwise_dot

    clip, dino, planted = synthetic(n, dim)
    found = mined_keys(root, n)
    rng = np.random.default_rng(1)
    rows = np.sort(rng.choice(n, min(n, sample), replace=False))
    truth = exact_neighbours(clip, rows, TAU_CLIP)
    ta, tb = truth // n, truth % n
    truth = truth[rowwise_dot(dino, ta, tb) < np.float32(TAU_DINO)]
    return {
        "sample_recall": float(np.isin(truth, found).mean()) if truth.size else None,
        "sample_pairs": int(truth.size),
        "planted_found": float(np.isin(planted, found).mean()),
        "blind": int(found.size),
        "found": found.tolist() if found.size < 5_000_000 else [],
    }


def run_numpy(n: int, dim: int) -> dict:
    """Brute force on the vectors in memory: every CLIP pair, then the DINOv2 filter."""
    from pairs.candidates import rowwise_dot

    clip, dino, planted = synthetic(n, dim)
    t0 = time.perf_counter()
    keys = numpy_pairs(clip, TAU_CLIP)
    a, b = keys // n, keys % n
    blind = rowwise_dot(dino, a, b) < np.float32(TAU_DINO)
    wall = time.perf_counter() - t0
    return {
        "method": "numpy",
        "n": n,
        "dim": dim,
        "wall_s": wall,
        "peak_mb": _peak_mb(),
        "blind": int(blind.sum()),
        "planted_found": float(np.isin(planted, keys[blind]).mean()),
        "keys": keys[blind].tolist(),
    }


def _spawn(case: str, n: int, dim: int, args: argparse.Namespace, root: Path) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "bench.mine",
        "--case",
        case,
        "--sizes",
        str(n),
        "--dims",
        str(dim),
        "--exact-max",
        str(args.exact_max),
        "--recall-sample",
        str(args.recall_sample),
        "--part-size",
        str(args.part_size),
        "--workspace",
        str(root),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        return {"method": case, "n": n, "dim": dim, "error": done.stderr.strip()[-400:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _run_case(args: argparse.Namespace, n: int, dim: int) -> dict:
    root = Path(args.workspace)
    cases = {
        "write": lambda: write_workspace(root, n, dim, args.part_size),
        "mine": lambda: run_stage(root, n, args.exact_max),
        "check": lambda: run_check(root, n, dim, args.recall_sample),
        "numpy": lambda: run_numpy(n, dim),
    }
    return cases[args.case]()


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f}"


def main() -> int:
    """Run the cases; return 1 when any of them failed (0 otherwise)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--dims", default="768,1024")
    parser.add_argument("--baseline-max", type=int, default=100_000)
    parser.add_argument("--exact-max", type=int, default=20_000)
    parser.add_argument("--recall-sample", type=int, default=1000)
    parser.add_argument("--part-size", type=int, default=512, help="tiles per embeddings part")
    parser.add_argument("--case", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workspace", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    dims = [int(d) for d in args.dims.split(",")]
    if args.case:
        print(json.dumps(_run_case(args, sizes[0], dims[0])))
        return 0
    failed = False
    print(
        f"{'dim':>5} {'N':>8} {'method':>6} {'plan':>16} {'wall s':>8} {'peak MB':>8} "
        f"{'recall':>7} {'planted':>7} {'blind':>7} {'numpy/mine':>10}   ({_load()})"
    )
    for dim in dims:
        walls: list[tuple[int, float]] = []
        for n in sizes:
            with tempfile.TemporaryDirectory(prefix="bench-mine-") as tmp:
                root = Path(tmp) / "ws"
                wrote = _spawn("write", n, dim, args, root)
                mine = _spawn("mine", n, dim, args, root) if "error" not in wrote else wrote
                check = _spawn("check", n, dim, args, root) if "error" not in mine else mine
            if "error" in check:
                print(f"{dim:>5} {n:>8} mine failed: {check['error']}")
                failed = True
                continue
            base = _spawn("numpy", n, dim, args, Path()) if n <= args.baseline_max else None
            if base is not None and "error" in base:
                print(f"{dim:>5} {n:>8} numpy baseline failed: {base['error']}")
                failed = True
            ratio, recall = None, check["sample_recall"]
            if base is not None and "error" not in base:
                truth = set(base.pop("keys"))
                got = set(check["found"])
                recall = len(got & truth) / len(truth) if truth else None
                ratio = base["wall_s"] / mine["wall_s"]
                print(
                    f"{dim:>5} {n:>8} {'numpy':>6} {'all pairs':>16} {base['wall_s']:>8.1f} "
                    f"{base['peak_mb']:>8.0f} {'1.000':>7} {base['planted_found']:>7.3f} "
                    f"{base['blind']:>7}"
                )
            plan = mine["plan"]
            desc = plan["kind"] + (f" {plan['nlist']}/{plan['nprobe']}" if plan["nlist"] else "")
            rec = "n/a" if recall is None else f"{recall:.4f}"
            rat = "" if ratio is None else f"{ratio:.2f}x"
            print(
                f"{dim:>5} {n:>8} {'mine':>6} {desc:>16} {mine['wall_s']:>8.1f} "
                f"{mine['peak_mb']:>8.0f} {rec:>7} {check['planted_found']:>7.3f} "
                f"{check['blind']:>7} {rat:>10}   ({_load()})",
                flush=True,
            )
            if ratio is None:
                print(
                    f"      (recall on the {check['sample_pairs']} blind pairs of "
                    f"{args.recall_sample} sampled tiles, by brute force; the stage's own "
                    f"sample: {mine['stage_recall']})"
                )
            phases = ", ".join(f"{k} {v:.1f}" for k, v in mine["phases"].items())
            print(f"      (seconds in steps of the stage: {phases})")
            peaks = ", ".join(f"{k} {v:.0f}" for k, v in mine["peaks"].items())
            print(f"      (peak RSS MB at the end of each step: {peaks})")
            walls.append((n, mine["wall_s"]))
        for (n1, w1), (n2, w2) in zip(walls, walls[1:], strict=False):
            slope = math.log(w2 / w1) / math.log(n2 / n1)
            print(
                f"      dim {dim}: mine time x{w2 / w1:.1f} from N={n1} to {n2} "
                f"(grows ~N^{slope:.2f})"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
