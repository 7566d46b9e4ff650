"""Embedding throughput per registered architecture, against two baselines from the same run.

For each encoder (real architectures with random weights: speed does not
depend on the values), images per second through ``encode_images`` at a few
batch sizes, next to

* naive: the same model fed one image at a time, and
* roofline: measured matmul FLOP/s of this machine (same dtype) divided by the
  model's FLOPs per image (counted with ``torch.utils.flop_counter``).

The figure is ``of roofline`` (achieved / roofline images/s).

    .venv/bin/python bench/embedding.py                       # every encoder
    .venv/bin/python bench/embedding.py --encoders clip:ViT-B-32/laion2b_s34b_b79k \
        --batch-sizes 1,8,32 --images 32 --dtype bfloat16
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from embeddings.encoder import ImageEncoder
from embeddings.registry import FAMILIES, get_spec, list_encoders
from embeddings.spec import EncoderOptions


def random_weights_encoder(encoder_id: str, device: str, dtype: str) -> ImageEncoder:
    """The registered architecture, built without pretrained weights."""
    spec = get_spec(encoder_id)
    spec = dataclasses.replace(spec, pretrained=None, config_tag=spec.pretrained or spec.config_tag)
    return FAMILIES[spec.family].load(spec, EncoderOptions(), device, dtype)


def matmul_flops(device: torch.device, dtype: torch.dtype, n: int = 2048, reps: int = 5) -> float:
    """Best-of-``reps`` FLOP/s of an n x n matmul."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
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
    """Throughput over ``n`` images in batches of ``batch`` (after one warm-up batch)."""
    x = torch.rand(max(n, batch), 3, enc.input_size, enc.input_size)
    enc.encode_images(x[:batch])
    start = time.perf_counter()
    for lo in range(0, n, batch):
        enc.encode_images(x[lo : lo + batch])
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoders", default=",".join(list_encoders()), help="comma-separated ids")
    parser.add_argument("--batch-sizes", default="4,16", help="comma-separated batch sizes")
    parser.add_argument("--images", type=int, default=16, help="images per measurement")
    parser.add_argument("--naive-images", type=int, default=4, help="images for the naive loop")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="float32", help="float32, bfloat16, float16 or auto")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
