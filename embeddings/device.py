"""Device and compute dtype: CUDA when present, else CPU; the dtype by a fixed rule.

``--compute-dtype auto`` is resolved once, before any work, by a rule that
depends only on the hardware (never on a timing, which can tie or flip):

* CUDA: bfloat16 where the GPU supports it, else float16;
* CPU: bfloat16 when the CPU has native BF16 arithmetic (AVX512-BF16 or AMX),
  else float32 (on AVX2-only CPUs bf16 is emulated and slower; measured in
  the README's performance section);
* anything else (MPS): float32.

The resolved dtype is part of the embedding identity (see
:mod:`embeddings.store`), so one encoder folder never mixes dtypes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from blindpairs.errors import ConfigError

if TYPE_CHECKING:
    import torch

COMPUTE_DTYPES = ("auto", "float32", "bfloat16", "float16")
_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


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


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX tiles), per torch."""
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def auto_dtype_name(device: torch.device) -> str:
    """The rule behind ``auto`` (module docstring): a dtype name for ``device``."""
    import torch

    if device.type == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if device.type == "cpu":
        return "bfloat16" if cpu_has_native_bf16() else "float32"
    return "float32"


def compute_dtype_name(requested: str | None, device: str | None) -> str:
    """``requested`` resolved to a concrete dtype name for ``device`` (a ``--device`` value)."""
    requested = requested or "auto"
    if requested not in COMPUTE_DTYPES:
        raise ConfigError(
            f"compute dtype {requested!r}: expected one of {', '.join(COMPUTE_DTYPES)}"
        )
    if requested != "auto":
        return requested
    import torch

    name = parse_device(device or "auto")
    if name.startswith("cuda") and not torch.cuda.is_available():
        return "bfloat16"  # GPU workers elsewhere (--scheduler): the CUDA rule, unchecked
    return auto_dtype_name(resolve_device(name))


def resolve_compute_dtype(requested: str | None, device: torch.device) -> torch.dtype:
    """The torch dtype to run the model in (``auto``: the rule of the module docstring)."""
    import torch

    name = requested or "auto"
    if name not in COMPUTE_DTYPES:
        raise ConfigError(f"compute dtype {name!r}: expected one of {', '.join(COMPUTE_DTYPES)}")
    return getattr(torch, auto_dtype_name(device) if name == "auto" else name)


def batch_for_memory(
    free_bytes: int, bytes_per_image: float, *, fraction: float = 0.6, cap: int = 1024
) -> int:
    """The batch size for a GPU with ``free_bytes`` free: a power of two, 1 to ``cap``.

    ``bytes_per_image`` is the measured peak memory of one image through the
    model; ``fraction`` of the free memory is used, leaving room for the
    allocator and for the next batch's inputs.
    """
    if bytes_per_image <= 0 or free_bytes <= 0:
        return 1
    fits = int(free_bytes * fraction // bytes_per_image)
    if fits < 1:
        return 1
    return min(cap, 1 << (fits.bit_length() - 1))
