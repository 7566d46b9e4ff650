"""bench/embed.py measures what a GPU does: inputs on the model's device, a full-size
matmul timed as a mean after warm-ups (checked here with stand-ins: no GPU)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from bench import embed


class RecordingEncoder:
    """Stands in for an ImageEncoder on torch's ``meta`` device: records its inputs' devices."""

    input_size = 8
    _device = torch.device("meta")

    def __init__(self) -> None:
        self.devices: list[str] = []

    def encode_images(self, x: torch.Tensor) -> np.ndarray:
        self.devices.append(x.device.type)
        return np.zeros((x.shape[0], 4), dtype=np.float32)


def test_images_per_second_makes_its_inputs_on_the_models_device() -> None:
    enc = RecordingEncoder()
    assert embed.images_per_second(enc, 8, 4) > 0  # type: ignore[arg-type]
    assert enc.devices == ["meta"] * 3  # warm-up and two batches


def test_matmul_flops_on_cuda_is_a_mean_of_ten_full_size_products(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sizes: list[tuple[int, ...]] = []
    products: list[int] = []

    def randn(*shape: int, device: Any = None) -> torch.Tensor:
        sizes.append(shape)
        return torch.empty(*shape, device="meta")

    monkeypatch.setattr(embed.torch, "randn", randn)
    monkeypatch.setattr(embed.torch, "mm", lambda a, b: products.append(1))
    monkeypatch.setattr(embed, "_sync", lambda device: None)
    flops = embed.matmul_flops(SimpleNamespace(type="cuda"), torch.bfloat16)  # type: ignore[arg-type]
    assert sizes == [(8192, 8192), (8192, 8192)]
    assert len(products) == 3 + 10 and flops > 0
