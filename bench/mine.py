"""Benchmark of the mine stage's search: FAISS-based mining vs brute-force NumPy.

Synthetic CLIP vectors (dim 768 or 1024, clustered like real embeddings) and
DINOv2 vectors (dim 1024) with planted CLIP-blind pairs (CLIP cosine ~0.97,
DINOv2 cosine ~-0.9), decoys (both alike) and near-duplicate families (10% of
the tiles, CLIP cosine ~0.96 around the threshold, DINOv2 unrelated: most of
the blind pairs, some split across IVF lists). For each N and dim, in its own
process (so the peak memory is the case's own):

- mine: :func:`pairs.candidates.find_candidates` with the automatic plan
  (exact FAISS flat up to ``--exact-max`` tiles, IVF above), then the exact
  DINOv2 filter; the same code ``blindpairs mine`` runs.
- numpy: brute-force all pairs (upper triangle in row blocks, X @ X.T), at
  sizes up to ``--baseline-max``.

Reported: wall time, peak RSS, recall of the mined CLIP pairs against the
exact set (the baseline's where it ran, else a brute-force check of
``--recall-sample`` tiles), planted pairs found, the time ratio numpy/mine,
and how the time grows with N (log-log slope between sizes).

Usage (repository root): .venv/bin/python -m bench.mine [--sizes 10000,100000] [--dims 768,1024]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
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


def run_case(method: str, n: int, dim: int, exact_max: int, sample: int) -> dict:
    """One measurement in this process; returns a JSON-able dict."""
    from pairs.candidates import (
        SearchOptions,
        SearchVectors,
        exact_neighbours,
        find_candidates,
        rowwise_dot,
    )
    from pairs.faiss_import import gpu_count, import_faiss
    from pairs.search_plan import plan_search
    from pairs.units import Thresholds

    faiss = import_faiss()
    clip, dino, planted = synthetic(n, dim)
    base_mb = _peak_mb()
    t0 = time.perf_counter()
    if method == "numpy":
        keys = numpy_pairs(clip, TAU_CLIP)
        a, b = keys // n, keys % n
        blind = rowwise_dot(dino, a, b) < np.float32(TAU_DINO)
        wall = time.perf_counter() - t0
        return {
            "method": method,
            "n": n,
            "dim": dim,
            "wall_s": wall,
            "peak_mb": _peak_mb(),
            "data_mb": base_mb,
            "clip_pairs": int(keys.size),
            "blind": int(blind.sum()),
            "planted_found": float(np.isin(planted, keys[blind]).mean()),
            "keys": keys.tolist() if keys.size < 5_000_000 else None,
        }
    plan = plan_search(n, "auto", exact_max, gpu_count(faiss))
    res = find_candidates(
        faiss,
        SearchVectors(clip, dino, np.ones(n, bool)),
        plan,
        Thresholds(TAU_CLIP, TAU_DINO, TAU_CLIP),
        SearchOptions(batch=2048),
    )
    wall = time.perf_counter() - t0
    c = res.candidates
    found = c.a.astype(np.int64) * n + c.b
    out = {
        "method": method,
        "n": n,
        "dim": dim,
        "wall_s": wall,
        "peak_mb": _peak_mb(),
        "data_mb": base_mb,
        "plan": plan.describe(),
        "blind": len(c),
        "planted_found": float(np.isin(planted, found).mean()),
        "found": found.tolist(),
    }
    if sample:  # recall of the CLIP search on a sample (used where no baseline ran)
        rng = np.random.default_rng(1)
        rows = np.sort(rng.choice(n, min(n, sample), replace=False))
        truth = exact_neighbours(clip, rows, TAU_CLIP)
        ta, tb = truth // n, truth % n
        truth = truth[rowwise_dot(dino, ta, tb) < np.float32(TAU_DINO)]
        out["sample_recall"] = float(np.isin(truth, found).mean()) if truth.size else None
        out["sample_pairs"] = int(truth.size)
    return out


def _spawn(method: str, n: int, dim: int, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "bench.mine",
        "--case",
        method,
        "--sizes",
        str(n),
        "--dims",
        str(dim),
        "--exact-max",
        str(args.exact_max),
        "--recall-sample",
        str(args.recall_sample),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        return {"method": method, "n": n, "dim": dim, "error": done.stderr.strip()[-400:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--dims", default="768,1024")
    parser.add_argument("--baseline-max", type=int, default=100_000)
    parser.add_argument("--exact-max", type=int, default=20_000)
    parser.add_argument("--recall-sample", type=int, default=0)
    parser.add_argument("--case", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    dims = [int(d) for d in args.dims.split(",")]
    if args.case:
        print(
            json.dumps(run_case(args.case, sizes[0], dims[0], args.exact_max, args.recall_sample))
        )
        return
    print(
        f"{'dim':>5} {'N':>8} {'method':>6} {'plan':>22} {'wall s':>8} {'peak MB':>8} "
        f"{'recall':>7} {'planted':>7} {'numpy/mine':>10}"
    )
    for dim in dims:
        walls: list[tuple[int, float]] = []
        for n in sizes:
            base = _spawn("numpy", n, dim, args) if n <= args.baseline_max else None
            if base is None or "keys" not in base or base.get("keys") is None:
                args_s = argparse.Namespace(**{**vars(args), "recall_sample": 1000})
                mine = _spawn("mine", n, dim, args_s)
            else:
                mine = _spawn("mine", n, dim, args)
            if "error" in mine:
                print(f"{dim:>5} {n:>8} mine failed: {mine['error']}")
                continue
            found = set(mine.pop("found"))
            if base is not None and "error" not in base:
                keys = base.pop("keys")
                # exact blind pairs = CLIP pairs of the baseline passing the DINOv2 filter
                recall = (len(found & set(keys)) / base["blind"]) if base["blind"] else None
                ratio = base["wall_s"] / mine["wall_s"]
                print(
                    f"{dim:>5} {n:>8} {'numpy':>6} {'all pairs':>22} {base['wall_s']:>8.1f} "
                    f"{base['peak_mb']:>8.0f} {'1.000':>7} {base['planted_found']:>7.3f} "
                    f"{base['blind']:>7}"
                )
            else:
                recall, ratio = mine.get("sample_recall"), None
            plan = mine["plan"]
            desc = plan["kind"] + (f" {plan['nlist']}/{plan['nprobe']}" if plan["nlist"] else "")
            rec = "n/a" if recall is None else f"{recall:.3f}"
            rat = "" if ratio is None else f"{ratio:.1f}x"
            print(
                f"{dim:>5} {n:>8} {'mine':>6} {desc:>22} {mine['wall_s']:>8.1f} "
                f"{mine['peak_mb']:>8.0f} {rec:>7} {mine['planted_found']:>7.3f} "
                f"{mine['blind']:>7} {rat:>10}",
                flush=True,
            )
            if "sample_pairs" in mine and ratio is None:
                print(
                    f"      (recall on the {mine['sample_pairs']} blind pairs of "
                    f"{args.recall_sample or 1000} sampled tiles, checked by brute force)"
                )
            walls.append((n, mine["wall_s"]))
        for (n1, w1), (n2, w2) in zip(walls, walls[1:], strict=False):
            slope = math.log(w2 / w1) / math.log(n2 / n1)
            print(
                f"      dim {dim}: mine time x{w2 / w1:.1f} from N={n1} to {n2} "
                f"(grows ~N^{slope:.2f})"
            )


if __name__ == "__main__":
    main()
