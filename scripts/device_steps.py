"""The GPU device check (issue 13): named steps, run in one call on a lent GPU machine.

    bash scripts/device_wheels.sh                      # here: the wheels the device lacks
    run(command="bash scripts/device_check.sh", carry=[".whl"], timeout_s=420)
    python -m scripts.device_steps --cpu               # dry run on this CPU, tiny sizes
    python -m scripts.device_steps --steps env,peak --budget-s 60 --out DIR

Steps (in this order; ``--steps`` picks some): env, peak, model-bfloat16,
model-float32, stage, model-resident, torch-search, faiss. Each writes its
figures into ``device_check.json`` (``--out``); what each measures is in its
``about`` below. The models are the paper's real architectures (CLIP ViT-L/14,
DINOv2 ViT-L/14) with random weights (speed does not depend on the values);
``--cpu`` uses the tiny random encoders and small sizes, so tests can run it.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import import_module, metadata
from pathlib import Path
from typing import Any

from scripts import device_models, device_search
from scripts.device_runner import Context, Step, run_steps


@dataclass(frozen=True)
class Sizes:
    """Problem sizes of one mode (the device, or the ``--cpu`` dry run)."""

    matmul_n: int  # on CUDA bench.embed.matmul_flops uses at least 8192
    encoder_set: str  # blindpairs.schemas.ENCODER_SETS key
    batches: tuple[int, ...]
    images: int  # images per model measurement
    tile_size: int
    stride: int
    stage_batch: int
    search_n: int
    search_dim: int
    search_k: int
    search_block: int
    fp32_queries: int  # queries timed in float32 (all search_n in bfloat16)


DEVICE = Sizes(8192, "paper", (32, 128, 256), 512, 256, 32, 256, 1_000_000, 768, 10, 4096, 131_072)
CPU = Sizes(256, "tiny", (2, 4), 8, 128, 128, 8, 4096, 64, 10, 1024, 1024)

_VERSIONS = (
    "torch", "torchvision", "numpy", "pyarrow", "pillow", "rasterio", "shapely", "dask",
    "distributed", "open_clip_torch", "timm", "safetensors", "faiss-cpu", "faiss-gpu",
    "faiss-gpu-cu12",
)  # fmt: skip
_IMPORTS = ("blindpairs.cli", "mining.stage", "embeddings.stage", "rasterio", "distributed")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _importable(module: str) -> str:
    try:
        import_module(module)
    except Exception as e:  # any import failure is a finding, not a crash
        return f"{type(e).__name__}: {e}"
    return "ok"


def _nvidia_smi() -> str | None:
    if not shutil.which("nvidia-smi"):
        return None
    query = "--query-gpu=name,driver_version,memory.total,clocks.max.sm"
    done = subprocess.run(
        ["nvidia-smi", query, "--format=csv,noheader"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or done.stderr.strip()


def env(ctx: Context) -> dict[str, Any]:
    """Python, torch, CUDA and GPU, package versions, and whether the project imports."""
    import torch

    out: dict[str, Any] = {
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "torch_cuda": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "versions": {d: _version(d) for d in _VERSIONS if _version(d)},
        "imports": {m: _importable(m) for m in _IMPORTS},
    }
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        out.update(
            gpu=p.name,
            capability=f"{p.major}.{p.minor}",
            memory_gib=round(p.total_memory / 2**30, 1),
            multiprocessors=p.multi_processor_count,
            bf16=torch.cuda.is_bf16_supported(),
            nvidia_smi=_nvidia_smi(),
        )
    return out


def peak(ctx: Context) -> dict[str, Any]:
    """Matmul TFLOP/s in bf16 and fp32 (bench.embed.matmul_flops; the models' roofline)."""
    import torch

    from bench.embed import matmul_flops

    device = torch.device(ctx.device)
    out: dict[str, Any] = {"n": ctx.sizes.matmul_n if ctx.cpu else max(ctx.sizes.matmul_n, 8192)}
    out["timing"] = "best of 5" if ctx.cpu else "mean of 10 after 3 warm-ups"
    out["tf32"] = bool(torch.backends.cuda.matmul.allow_tf32)  # float32 is TF32 when true
    for name in ("bfloat16", "float32"):
        ctx.peaks[name] = matmul_flops(device, getattr(torch, name), n=ctx.sizes.matmul_n)
        out[f"{name}_tflops"] = round(ctx.peaks[name] / 1e12, 3)
    return out


STEPS: tuple[Step, ...] = (
    Step("env", "versions, GPU, imports", env, 10, 10, needs_device=False),
    Step("peak", "matmul TFLOP/s, bf16 and fp32", peak, 15, 3),
    Step("model-bfloat16", device_models.model_about("bfloat16"),
         device_models.model_step("bfloat16"), 45, 10),
    Step("model-float32", device_models.model_about("float32"),
         device_models.model_step("float32"), 60, 10),
    Step("stage", device_models.stage.__doc__ or "", device_models.stage, 150, 90),
    Step("model-resident", device_models.resident.__doc__ or "", device_models.resident, 30, 10),
    Step("torch-search", device_search.torch_search.__doc__ or "", device_search.torch_search,
         40, 5),
    Step("faiss", device_search.faiss_search.__doc__ or "", device_search.faiss_search, 20, 5,
         needs_device=False),
)  # fmt: skip


def select(names: str | None) -> list[Step]:
    """The steps named in ``names`` (comma-separated; all when empty), in the registry's order."""
    if not names:
        return list(STEPS)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = {s.name for s in STEPS}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise SystemExit(f"unknown step(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [s for s in STEPS if s.name in wanted]


def _no_device(cpu: bool) -> str | None:
    """Why the device steps cannot run (None: they can)."""
    if cpu:
        return None
    import torch

    if torch.cuda.is_available():
        return None
    return f"no CUDA device (torch {torch.__version__}); --cpu runs the dry run"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu", action="store_true", help="dry run on the CPU at tiny sizes")
    parser.add_argument("--steps", help="comma-separated step names (default: all)")
    parser.add_argument("--budget-s", type=float, default=330, help="seconds for all steps")
    default_out = os.environ.get("OUT") or "device-check-out"
    parser.add_argument("--out", default=default_out, help="folder of device_check.json")
    args = parser.parse_args(argv)
    steps = select(args.steps)
    with tempfile.TemporaryDirectory(prefix="device-check-") as work:
        ctx = Context(cpu=args.cpu, sizes=CPU if args.cpu else DEVICE, work=Path(work))
        report = Path(args.out) / "device_check.json"
        doc = run_steps(steps, ctx, args.budget_s, report, no_device=_no_device(args.cpu))
    failed = [s["name"] for s in doc["steps"] if s["status"] == "failed"]
    print(f"device check: {len(doc['steps'])} steps in {doc['elapsed_s']} s; report {report}")
    if failed:
        print(f"device check: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
