"""Device-check steps about search: exact kNN by blocked matmul in torch, and FAISS.

The vectors are clustered (groups of ``k`` noisy copies of a random unit
centre, L2-normalised, seeded), so each vector's true neighbours stand clear
of the rest and the bf16 search's agreement with fp32 is a meaningful check.
"""

from __future__ import annotations

import time
from typing import Any

from scripts.device_runner import Context, StepSkipped

# What a device call can carry, and what FAISS-GPU needs (measured with pip download
# here: faiss-gpu 1.15.1's wheel alone is 135.3 MB and needs the CUDA 12 runtime and
# cuBLAS; the device has CUDA 13's. faiss-gpu-cu12 with its CUDA 12 libraries: 603.8 MiB).
FAISS_TOO_BIG = (
    "faiss is not installed on the device and FAISS-GPU cannot travel: faiss-gpu-cu12 with "
    "its CUDA 12 libraries is 603.8 MiB (faiss-gpu 1.15.1's wheel alone 135.3 MB), over the "
    "64 MiB a device call carries"
)


def _vectors(ctx: Context) -> Any:
    """(n, dim) float32 unit vectors on the device, in clusters of ``k``."""
    import torch

    s = ctx.sizes
    gen = torch.Generator(device=ctx.device).manual_seed(0)
    centres = torch.randn(
        s.search_n // s.search_k + 1, s.search_dim, device=ctx.device, generator=gen
    )
    x = centres.repeat_interleave(s.search_k, dim=0)[: s.search_n]
    x += 0.3 * torch.randn(x.shape, device=ctx.device, generator=gen)
    return torch.nn.functional.normalize(x, dim=1)


def knn(x: Any, queries: int, k: int, block: int) -> tuple[Any, float]:
    """Top-``k`` inner-product neighbours of the first ``queries`` rows of ``x`` among all rows,
    by blocks of ``block`` queries (matmul, then topk); the indices and the seconds taken."""
    import torch

    idx = torch.empty(queries, k, dtype=torch.int64, device=x.device)
    if x.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for lo in range(0, queries, block):
        hi = min(lo + block, queries)
        idx[lo:hi] = (x[lo:hi] @ x.T).topk(k, dim=1).indices
    if x.device.type == "cuda":
        torch.cuda.synchronize()
    return idx, time.perf_counter() - start


def _recall(found: Any, truth: Any) -> float:
    """Mean fraction of each row of ``truth`` that ``found``'s row holds."""
    hits = (found[:, :, None] == truth[:, None, :]).any(dim=2).float()
    return float(hits.mean())


def torch_search(ctx: Context) -> dict[str, Any]:
    """Exact all-vs-all kNN of 1M x 768 by blocked matmul + topk: bf16 (all), fp32 (a subset)."""
    import torch

    s = ctx.sizes
    x = _vectors(ctx)
    half = x.to(torch.bfloat16)
    knn(half, min(s.search_block, s.search_n), s.search_k, s.search_block)  # warm-up
    idx16, secs16 = knn(half, s.search_n, s.search_k, s.search_block)
    q = min(s.fp32_queries, s.search_n)
    idx32, secs32 = knn(x, q, s.search_k, s.search_block)
    out = {
        "n": s.search_n,
        "dim": s.search_dim,
        "k": s.search_k,
        "block": s.search_block,
        "bfloat16_all_s": round(secs16, 3),
        "float32_queries": q,
        "float32_s": round(secs32, 3),
        "bfloat16_recall_vs_float32": round(_recall(idx16[:q], idx32), 4),
        "tf32": bool(torch.backends.cuda.matmul.allow_tf32),
    }
    # the matmul's FLOP/s against the peak step's, where it ran: what the topk and blocks cost
    for name, queries, secs in (("bfloat16", s.search_n, secs16), ("float32", q, secs32)):
        if name in ctx.peaks:
            out[f"{name}_of_peak"] = round(
                2 * queries * s.search_n * s.search_dim / secs / ctx.peaks[name], 3
            )
    return out


def faiss_search(ctx: Context) -> dict[str, Any]:
    """FAISS exact search (GpuIndexFlatIP) on the same vectors; skipped where FAISS-GPU is not."""
    try:
        import faiss
    except ImportError:
        raise StepSkipped(FAISS_TOO_BIG) from None
    gpus = faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0
    if not ctx.cpu and gpus == 0:
        raise StepSkipped(f"faiss {faiss.__version__} here has no GPU support; {FAISS_TOO_BIG}")
    s = ctx.sizes
    x = _vectors(ctx).cpu().numpy()
    index = faiss.IndexFlatIP(s.search_dim)
    if not ctx.cpu:
        index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
    start = time.perf_counter()
    index.add(x)
    added = time.perf_counter() - start
    q = min(s.fp32_queries, s.search_n)
    start = time.perf_counter()
    index.search(x[:q], s.search_k)
    return {
        "faiss": faiss.__version__,
        "gpu": not ctx.cpu,
        "n": s.search_n,
        "queries": q,
        "add_s": round(added, 3),
        "search_s": round(time.perf_counter() - start, 3),
    }
