"""Device and compute dtype: CUDA when present, else CPU; dtype by rule or by measurement.

On CUDA, ``auto`` means bfloat16 weights where supported (else float16). On
CPU, ``auto`` times one small batch in float32 and in bfloat16 and keeps the
faster (bf16 wins on CPUs with AMX/AVX512-BF16, loses badly where it is
emulated); the choice is cached per process and encoder.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from blindpairs.errors import ConfigError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

COMPUTE_DTYPES = ("auto", "float32", "bfloat16", "float16")
_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")
_CPU_CHOICE: dict[tuple[str, int], str] = {}


def parse_device(value: object) -> str:
    """Validate a ``--device`` value: auto, cpu, cuda, cuda:N or mps."""
    text = str(value).strip().lower()
    if not _DEVICE_RE.match(text):
        raise ValueError(f"expected auto, cpu, cuda, cuda:N or mps, got {value!r}")
    return text


def resolve_device(name: str | None) -> torch.device:
    """The torch device for ``name`` (``None``/``auto``: CUDA if available, else CPU)."""
    import torch

    name = parse_device(name or "auto")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: CUDA is not available here; use --device cpu or auto")
    return torch.device(name)


def resolve_compute_dtype(
    requested: str | None,
    device: torch.device,
    *,
    cache_key: str,
    measure: Callable[[torch.dtype], float],
) -> torch.dtype:
    """The dtype to run the model in.

    ``measure(dtype)`` converts the model to ``dtype`` and returns seconds
    per image; it is only called for ``auto`` on CPU.
    """
    import torch

    requested = requested or "auto"
    if requested not in COMPUTE_DTYPES:
        raise ConfigError(
            f"compute dtype {requested!r}: expected one of {', '.join(COMPUTE_DTYPES)}"
        )
    if requested != "auto":
        return getattr(torch, requested)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type != "cpu":
        return torch.float32
    key = (cache_key, torch.get_num_threads())
    if key not in _CPU_CHOICE:
        fp32 = measure(torch.float32)
        bf16 = measure(torch.bfloat16)
        _CPU_CHOICE[key] = "bfloat16" if bf16 < fp32 else "float32"
        log.info(
            "%s on CPU: float32 %.3f s/image, bfloat16 %.3f s/image -> %s",
            cache_key,
            fp32,
            bf16,
            _CPU_CHOICE[key],
        )
    return getattr(torch, _CPU_CHOICE[key])


def time_forward(
    model: torch.nn.Module, forward: Callable[[torch.Tensor], torch.Tensor], size: int
) -> Callable[[torch.dtype], float]:
    """A ``measure`` function for :func:`resolve_compute_dtype` (2 images, 1 warm-up, best of 3).

    The model's float32 state is restored after each measurement, so a
    bfloat16 trial never costs the float32 weights any precision.
    """
    import torch

    snapshot: dict[str, torch.Tensor] = {}

    def measure(dtype: torch.dtype) -> float:
        if not snapshot:
            snapshot.update({k: v.detach().clone() for k, v in model.state_dict().items()})
        model.to(dtype=dtype)
        x = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0)).to(dtype)
        try:
            with torch.inference_mode():
                forward(x)
                best = float("inf")
                for _ in range(3):  # best of three: a noisy machine must not flip the choice
                    start = time.perf_counter()
                    forward(x)
                    best = min(best, time.perf_counter() - start)
            return best / 2
        finally:
            model.to(dtype=torch.float32)
            model.load_state_dict(snapshot)

    return measure
