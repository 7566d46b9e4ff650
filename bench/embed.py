"""Embedding throughput: the model alone, and the whole embed stage against it.

Model mode (default): for each encoder (real architectures with random
weights: speed does not depend on the values), images per second through
``encode_images`` on ready tensors at a few batch sizes, next to

* naive: the same model fed one image at a time, and
* roofline: measured matmul FLOP/s of this machine (same dtype) divided by the
  model's FLOPs per image (counted with ``torch.utils.flop_counter``).

Stage mode (``--stage``): tiles real scenes (``../shared/data``) with
``blindpairs tile``, saves random weights of the real architectures as local
checkpoints, runs the real ``blindpairs embed --clip-checkpoint ...
--dino-checkpoint ...`` on them, then times the same encoders (loaded from the
same checkpoints) on ready tensors. Prints, per encoder, stage img/s (PNG
decode, preprocessing, forward, Parquet; the model load and its warm-up
forward excluded) over model-only img/s, from one run. Both sides run at the
same batch size, dtype and torch thread count (the stage sets torch's threads
to its Dask worker's, ``--workers``; the model side is set to the same).

    .venv/bin/python -m bench.embed                       # every encoder (repository root)
    .venv/bin/python -m bench.embed --encoders clip:ViT-B-32/laion2b_s34b_b79k \
        --batch-sizes 1,8,32 --images 32 --dtype bfloat16
    .venv/bin/python -m bench.embed --stage               # small pair, real tiles
    .venv/bin/python -m bench.embed --stage --rounds 3    # median of 3 rounds (noisy machine)
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from blindpairs import malloc

# As the blindpairs command does when it starts (like with like): before importing torch,
# whose import starts a thread (the arena limit only holds for threads without an arena).
malloc.tune()

import torch  # noqa: E402

from blindpairs.workspace import Workspace  # noqa: E402
from embeddings.encoder import ImageEncoder  # noqa: E402
from embeddings.registry import FAMILIES, get_spec, list_encoders  # noqa: E402
from embeddings.spec import EncoderOptions  # noqa: E402


def random_weights_encoder(encoder_id: str, device: str, dtype: str) -> ImageEncoder:
    """The registered architecture, built without pretrained weights."""
    spec = get_spec(encoder_id)
    spec = dataclasses.replace(spec, pretrained=None, config_tag=spec.pretrained or spec.config_tag)
    return FAMILIES[spec.family].load(spec, EncoderOptions(), device, dtype)


def matmul_flops(device: torch.device, dtype: torch.dtype, n: int = 2048, reps: int = 5) -> float:
    """FLOP/s of an n x n matmul: on CUDA the mean of >= 10 after 3 warm-ups, n >= 8192
    (a smaller product does not fill the GPU); elsewhere the best of ``reps``."""
    if device.type == "cuda":
        n, reps = max(n, 8192), max(reps, 10)
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    if device.type == "cuda":
        for _ in range(3):
            torch.mm(a, b)
        _sync(device)
        start = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b)
        _sync(device)
        return 2 * n**3 * reps / (time.perf_counter() - start)
    best = float("inf")
    for _ in range(reps + 1):
        _sync(device)
        start = time.perf_counter()
        torch.mm(a, b)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def model_flops(enc: ImageEncoder) -> float:
    """FLOPs of one image through the encoder's forward."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.rand(1, 3, enc.input_size, enc.input_size)
    with FlopCounterMode(display=False) as counter:
        enc.encode_images(x)
    return float(counter.get_total_flops())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def images_per_second(enc: ImageEncoder, n: int, batch: int) -> float:
    """Throughput over ``n`` images in batches of ``batch`` (after one warm-up batch).

    The inputs are made on the model's device: the figure is the model's, not a host copy's.
    """
    x = torch.rand(max(n, batch), 3, enc.input_size, enc.input_size, device=enc._device)
    enc.encode_images(x[:batch])
    start = time.perf_counter()
    for lo in range(0, n, batch):
        enc.encode_images(x[lo : lo + batch])
    return n / (time.perf_counter() - start)


def save_checkpoint(encoder_id: str, folder: Path) -> Path:
    """Random weights of ``encoder_id``'s real architecture, saved as a local checkpoint."""
    enc = random_weights_encoder(encoder_id, "cpu", "float32")
    if enc.family == "clip":
        path = folder / "open_clip_pytorch_model.bin"
        torch.save(enc.model.state_dict(), path)
    else:
        from safetensors.torch import save_file

        path = folder / "dinov2.safetensors"
        save_file({k: v.contiguous() for k, v in enc.model.state_dict().items()}, path)
    return path


def blindpairs(*args: str) -> tuple[str, float]:
    """Run the ``blindpairs`` CLI; return its stdout and wall-clock seconds."""
    cmd = [sys.executable, "-m", "blindpairs", *args]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout, wall


_SUMMARY = re.compile(r"^embed (\S+): (\d+) embedded.*\(([\d.]+) tiles/s after ([\d.]+) s")


def time_stage(
    ws: Path, role: str, checkpoint: Path, encoder_id: str, args: argparse.Namespace
) -> tuple[int, float, float, float]:
    """Run ``blindpairs embed`` for one encoder: tiles, tiles/s, load s and wall s."""
    other = "dino" if role == "clip" else "clip"
    out, wall = blindpairs(
        "embed", "-w", str(ws), "-q", "--encoders", args.set, f"--{other}", "none",
        f"--{role}-checkpoint", str(checkpoint),
        "--device", args.device, "--compute-dtype", args.dtype,
        "--batch-size", str(args.stage_batch), "--workers", str(args.workers),
    )  # fmt: skip
    found = [m for m in map(_SUMMARY.match, out.splitlines()) if m]
    if len(found) != 1 or found[0][1] != encoder_id:
        sys.exit(f"could not read the embed summary:\n{out}")
    return int(found[0][2]), float(found[0][3]), float(found[0][4]), wall


def stage_mode(args: argparse.Namespace) -> None:
    """Tile real scenes, embed them with ``blindpairs embed``, compare with the model alone."""
    from blindpairs.schemas import ENCODER_SETS
    from embeddings.registry import create_encoder

    scenes = sorted(glob.glob(args.scenes))
    if not scenes:
        sys.exit(f"no scenes match {args.scenes}")
    clip_id, dino_id = ENCODER_SETS[args.set]
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        ws, ckpt = Path(tmp) / "ws", Path(tmp) / "ckpt"
        for sub in ("clip", "dino"):
            (ckpt / sub).mkdir(parents=True)
        out, _ = blindpairs(
            "tile", *scenes, "-w", str(ws), "-q", "--size", str(args.tile_size),
            "--stride", str(args.stride), "--min-valid", "0.5",
        )  # fmt: skip
        paths = {clip_id: save_checkpoint(clip_id, ckpt / "clip")}
        paths[dino_id] = save_checkpoint(dino_id, ckpt / "dino")
        parts = len(list((ws / "tiles").glob("part-*.parquet")))
        # like with like: the stage gives torch its Dask worker's threads (--workers)
        torch.set_num_threads(args.workers)
        print(
            f"machine: {os.cpu_count()} cores, torch {torch.__version__}; real "
            f"{args.tile_size} px tiles: {len(scenes)} scenes given, {parts} tiled "
            "(one tiles part each)\n"
            f"both sides: dtype {args.dtype}, batch {args.stage_batch}, "
            f"{torch.get_num_threads()} torch threads (stage: --workers {args.workers}, "
            "one in-process Dask worker with that many threads), one warm-up forward excluded"
        )
        cols = ("tiles", "stage img/s", "model img/s", "stage/model", "load s", "wall s", "loadavg")
        print(f"{'encoder':42} " + " ".join(f"{c:>11}" for c in cols))
        for role, encoder_id in (("clip", clip_id), ("dino", dino_id)):
            enc = create_encoder(
                encoder_id, checkpoint=str(paths[encoder_id]), device=args.device, dtype=args.dtype
            )
            ratios = []
            for _ in range(args.rounds):
                shutil.rmtree(Workspace(ws).encoder_dir(encoder_id), ignore_errors=True)
                before = images_per_second(enc, args.model_images, args.stage_batch)
                tiles, rate, load, wall = time_stage(ws, role, paths[encoder_id], encoder_id, args)
                after = images_per_second(enc, args.model_images, args.stage_batch)
                model = (before + after) / 2  # the model alone, just before and just after
                ratios.append(rate / model)
                cells = (
                    f"{tiles:>11d}", f"{rate:>11.2f}", f"{model:>11.2f}", f"{rate / model:>11.2f}",
                    f"{load:>11.1f}", f"{wall:>11.1f}", f"{os.getloadavg()[0]:>11.1f}",
                )  # fmt: skip
                print(f"{encoder_id:42} " + " ".join(cells), flush=True)
            if args.rounds > 1:
                print(f"{encoder_id:42} median stage/model of {args.rounds} rounds: "
                      f"{statistics.median(ratios):.2f}")  # fmt: skip
            del enc
        print(
            "stage img/s: the embed summary (decode, preprocess, forward, Parquet; model load "
            "and warm-up excluded); model img/s: encode_images on ready tensors, mean of one "
            "run just before and one just after the stage; wall s: the whole command"
        )


def model_mode(args: argparse.Namespace) -> None:
    """Images/s of each encoder on ready tensors, against naive and roofline."""
    batches = [int(b) for b in args.batch_sizes.split(",")]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    header = (
        f"{'encoder':42} {'dtype':8} {'batch':>5} {'img/s':>8} {'naive':>8} "
        f"{'x naive':>8} {'roofline':>9} {'of roofline':>11}"
    )
    print(header)
    peaks: dict[tuple[str, str], float] = {}
    for encoder_id in args.encoders.split(","):
        enc = random_weights_encoder(encoder_id, args.device, args.dtype)
        device, dtype = enc._device, enc._dtype
        if (str(device), str(dtype)) not in peaks:
            peaks[(str(device), str(dtype))] = matmul_flops(device, dtype)
        peak = peaks[(str(device), str(dtype))]
        flops = model_flops(enc)
        roof = peak / flops
        naive = images_per_second(enc, args.naive_images, 1)
        for batch in batches:
            ips = images_per_second(enc, args.images, batch)
            print(
                f"{encoder_id:42} {enc.compute_dtype:8} {batch:>5} {ips:>8.2f} {naive:>8.2f} "
                f"{ips / naive:>8.2f} {roof:>9.2f} {ips / roof:>11.1%}"
            )
        print(f"  {flops / 1e9:.2f} GFLOP/image; matmul peak {peak / 1e9:.1f} GFLOP/s ({device})")
        del enc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoders", default=",".join(list_encoders()), help="comma-separated ids")
    parser.add_argument("--batch-sizes", default="4,16", help="comma-separated batch sizes")
    parser.add_argument("--images", type=int, default=16, help="images per measurement")
    parser.add_argument("--naive-images", type=int, default=4, help="images for the naive loop")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="float32", help="float32, bfloat16, float16 or auto")
    stage = parser.add_argument_group("stage mode")
    stage.add_argument("--stage", action="store_true", help="time blindpairs embed vs the model")
    stage.add_argument("--set", default="small", help="encoder pair: small, paper or tiny")
    here = Path(__file__).resolve().parent.parent
    stage.add_argument("--scenes", default=str(here.parent / "shared" / "data" / "*.tif"))
    stage.add_argument("--tile-size", type=int, default=512)
    stage.add_argument(
        "--stride", type=int, default=48, help="tile stride (48: 262 overlapping tiles, 8 batches)"
    )
    stage.add_argument("--stage-batch", type=int, default=32, help="--batch-size of the stage")
    stage.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="Dask threads of the stage"
    )
    stage.add_argument("--model-images", type=int, default=96, help="images per model run")
    stage.add_argument(
        "--rounds", type=int, default=1, help="model, stage, model rounds per encoder (median)"
    )
    args = parser.parse_args()
    (stage_mode if args.stage else model_mode)(args)


if __name__ == "__main__":
    main()
