"""Which CLIP search to run, and with what IVF parameters, chosen by the number of tiles.

- exact: a FAISS ``IndexFlatIP`` (on the GPU when FAISS has one). Range search
  on the CPU; k-NN with a growing k on the GPU (GPU indexes lack range search).
- ivf: FAISS k-means (spherical, on the GPU when present) cuts the vectors into
  ``nlist`` lists; each tile probes its ``nprobe`` nearest lists and is scored
  against every tile whose own list is among them, one list at a time as a
  matrix product (BLAS speed instead of FAISS's per-query list scans, which
  measured ~20x slower on this 2-core CPU). A pair is found when either tile's
  list is among the other's probes.

Defaults: ``nlist`` = the power of two nearest 4*sqrt(N) (at most N/40, so
k-means has 40 points a list), ``nprobe`` = 8. Work grows as N^2 * nprobe / nlist, i.e. ~N^1.5 with
these defaults. The run measures the recall on a sample of tiles and warns
below 0.99 (raise ``--nprobe`` then).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

GPU_EXACT_FACTOR = 25
DEFAULT_NPROBE = 8


@dataclass(frozen=True)
class SearchPlan:
    """The search to run: ``kind`` exact or ivf; IVF sizes; GPU or not."""

    kind: str
    nlist: int = 0
    nprobe: int = 0
    gpu: bool = False

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def auto_nlist(n: int) -> int:
    """A power of two near 4*sqrt(n), with at least 40 tiles a list."""
    target = 4.0 * math.sqrt(max(n, 1))
    nlist = 2 ** round(math.log2(target))
    return max(1, min(nlist, n // 40))


def auto_nprobe(nlist: int) -> int:
    return min(nlist, DEFAULT_NPROBE)


def plan_search(
    n: int,
    index: str,
    exact_max: int,
    gpus: int,
    nlist: int | None = None,
    nprobe: int | None = None,
) -> SearchPlan:
    """Choose the search for ``n`` tiles (``index``: auto, exact or ivf)."""
    gpu = gpus > 0
    if index == "auto":
        limit = exact_max * (GPU_EXACT_FACTOR if gpu else 1)
        index = "exact" if n <= limit else "ivf"
    if index == "exact":
        return SearchPlan("exact", gpu=gpu)
    lists = min(nlist or auto_nlist(n), max(1, n))
    probes = min(nprobe or auto_nprobe(lists), lists)
    return SearchPlan("ivf", nlist=lists, nprobe=probes, gpu=gpu)
