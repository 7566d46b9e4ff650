"""Device-check steps about the encoders: the model alone, the embed stage, the resident model.

The measurements are bench/embed.py's (``images_per_second``, ``model_flops``,
``matmul_flops``, ``save_checkpoint``, ``time_stage``); this module only picks
sizes, runs them on the device and returns the figures for the report.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts.device_runner import Context


def _encoder_ids(ctx: Context) -> tuple[str, str]:
    from blindpairs.schemas import ENCODER_SETS

    return ENCODER_SETS[ctx.sizes.encoder_set]


def _encoder(ctx: Context, encoder_id: str, dtype: str) -> Any:
    """The random-weight encoder of ``encoder_id`` at ``dtype``, loaded once per check."""
    from bench.embed import random_weights_encoder

    key = (encoder_id, dtype)
    if key not in ctx.models:
        ctx.models[key] = random_weights_encoder(encoder_id, ctx.device, dtype)
    return ctx.models[key]


def _peak(ctx: Context, dtype: str) -> float:
    """The matmul FLOP/s of ``dtype`` (the peak step's, else measured now)."""
    if dtype not in ctx.peaks:
        import torch

        from bench.embed import matmul_flops

        ctx.peaks[dtype] = matmul_flops(
            torch.device(ctx.device), getattr(torch, dtype), n=ctx.sizes.matmul_n
        )
    return ctx.peaks[dtype]


def model_about(dtype: str) -> str:
    return f"img/s of CLIP and DINOv2 ViT-L/14 in {dtype} on device-resident inputs, vs roofline"


def model_step(dtype: str) -> Callable[[Context], dict[str, Any]]:
    """The model-<dtype> step: img/s at each batch size, and the fraction of the roofline."""

    def run(ctx: Context) -> dict[str, Any]:
        from bench.embed import images_per_second, model_flops

        peak = _peak(ctx, dtype)
        out: dict[str, Any] = {"dtype": dtype, "peak_tflops": round(peak / 1e12, 3), "models": {}}
        for encoder_id in _encoder_ids(ctx):
            enc = _encoder(ctx, encoder_id, dtype)
            flops = model_flops(enc)
            roof = peak / flops
            rows = {}
            for batch in ctx.sizes.batches:
                ips = images_per_second(enc, max(ctx.sizes.images, batch), batch)
                rows[str(batch)] = {"img_s": round(ips, 2), "of_roofline": round(ips / roof, 3)}
                print(f"  {encoder_id} {dtype} batch {batch}: {ips:.1f} img/s", flush=True)
            out["models"][encoder_id] = {
                "gflop_per_image": round(flops / 1e9, 3),
                "roofline_img_s": round(roof, 1),
                "batches": rows,
            }
        return out

    return run


def _stage_args(ctx: Context, dtype: str) -> argparse.Namespace:
    """The options bench.embed's ``time_stage`` reads (its CLI's names)."""
    return argparse.Namespace(
        set=ctx.sizes.encoder_set,
        device=ctx.device,
        dtype=dtype,
        stage_batch=ctx.sizes.stage_batch,
        workers=os.cpu_count() or 1,
    )


def _tile(ctx: Context, ws: Path) -> dict[str, Any]:
    """Tile the built-in example scenes into ``ws`` with ``blindpairs tile``."""
    from bench.embed import blindpairs
    from mining.example import write_example_scenes

    scenes = [str(p) for p in write_example_scenes(ctx.work / "scenes")]
    size, stride = ctx.sizes.tile_size, ctx.sizes.stride
    _, wall = blindpairs(
        "tile", *scenes, "-w", str(ws), "-q", "--size", str(size), "--stride", str(stride),
        "--min-valid", "0.5",
    )  # fmt: skip
    return {
        "scenes": len(scenes),
        "tile_size": size,
        "stride": stride,
        "tile_wall_s": round(wall, 1),
    }


def stage(ctx: Context) -> dict[str, Any]:
    """blindpairs tile + embed (bf16, random-weight checkpoints) vs the model alone, same run."""
    from bench.embed import images_per_second, save_checkpoint, time_stage

    dtype = "bfloat16"
    ws, ckpt = ctx.work / "ws", ctx.work / "ckpt"
    out: dict[str, Any] = _tile(ctx, ws)
    args = _stage_args(ctx, dtype)
    out.update(dtype=dtype, batch=args.stage_batch, workers=args.workers, encoders={})
    for role, encoder_id in zip(("clip", "dino"), _encoder_ids(ctx), strict=True):
        (ckpt / role).mkdir(parents=True, exist_ok=True)
        path = save_checkpoint(encoder_id, ckpt / role)
        enc = _encoder(ctx, encoder_id, dtype)  # same architecture and dtype: same speed
        n = max(ctx.sizes.images, 2 * args.stage_batch)
        before = images_per_second(enc, n, args.stage_batch)
        tiles, rate, load, wall = time_stage(ws, role, path, encoder_id, args)
        model = (before + images_per_second(enc, n, args.stage_batch)) / 2
        out["encoders"][encoder_id] = {
            "tiles": tiles,
            "stage_img_s": round(rate, 2),
            "model_img_s": round(model, 2),
            "stage_over_model": round(rate / model, 3),
            "load_s": load,
            "wall_s": round(wall, 1),
        }
        print(f"  {encoder_id}: stage {rate:.1f} / model {model:.1f} img/s = {rate / model:.2f}")
    return out


def _pngs(count: int, side: int) -> list[bytes]:
    """``count`` random RGB tiles of ``side`` px as PNG bytes (the stage's input)."""
    import numpy as np

    from blindpairs.png import encode_png

    rng = np.random.default_rng(0)
    return [encode_png(rng.integers(0, 256, (3, side, side), np.uint8), 0) for _ in range(count)]


def _prepared_rate(enc: Any, tensors: list[Any], batch: int) -> float:
    """img/s of ``encode_prepared`` (host tensors in, the stage's device path) after a warm-up."""
    import time

    enc.encode_prepared(tensors[:batch])
    start = time.perf_counter()
    for lo in range(0, len(tensors), batch):
        enc.encode_prepared(tensors[lo : lo + batch])
    return len(tensors) / (time.perf_counter() - start)


def _auto_batch(ctx: Context, enc: Any) -> dict[str, Any]:
    """``--batch-size auto``'s batch, img/s at it, weights and peak memory (inputs included)."""
    import torch

    from bench.embed import images_per_second

    weights = sum(p.numel() * p.element_size() for p in enc.model.parameters())
    auto = enc.batch_size(None)
    out: dict[str, Any] = {"weights_mib": round(weights / 2**20, 1), "auto_batch": auto}
    if not ctx.cpu:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    out["img_s_auto_batch"] = round(images_per_second(enc, auto, auto), 2)
    if not ctx.cpu:
        peak = torch.cuda.max_memory_allocated() - base
        out["peak_mib_auto_batch"] = round(peak / 2**20, 1)
        out["gpu_memory_mib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**20)
    return out


def resident(ctx: Context) -> dict[str, Any]:
    """Models resident on the GPU: memory, --batch-size auto, device inputs vs host tiles."""
    from bench.embed import images_per_second

    dtype, batch = "bfloat16", ctx.sizes.stage_batch
    pngs = _pngs(max(ctx.sizes.images, 2 * batch), ctx.sizes.tile_size)
    out: dict[str, Any] = {"dtype": dtype, "stage_batch": batch, "models": {}}
    for encoder_id in _encoder_ids(ctx):
        enc = _encoder(ctx, encoder_id, dtype)
        row = _auto_batch(ctx, enc)
        tensors = [enc.prepare_tile(b) for b in pngs]  # decoding is the CPU's, not timed
        device_rate = images_per_second(enc, len(tensors), batch)
        host_rate = _prepared_rate(enc, tensors, batch)
        row.update(
            img_s_device_inputs=round(device_rate, 2),
            img_s_host_tiles=round(host_rate, 2),
            host_over_device=round(host_rate / device_rate, 3),
        )
        out["models"][encoder_id] = row
    return out
