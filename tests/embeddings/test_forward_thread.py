"""CPU forwards run in one dedicated thread, with the caller's torch threads and modes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from embeddings.forward_thread import ForwardThread
from embeddings.registry import create_encoder


def test_calls_run_in_one_thread_with_the_callers_torch_threads() -> None:
    runner = ForwardThread()
    seen: list[tuple[int, int]] = []

    def record() -> int:
        seen.append((threading.get_ident(), torch.get_num_threads()))
        return len(seen)

    def from_thread(n: int) -> int:
        torch.set_num_threads(n)  # per calling thread
        return runner.call(record)

    before = torch.get_num_threads()
    try:
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(from_thread, [1, 2, 1, 2]))
    finally:
        torch.set_num_threads(before)
        runner.close()
    assert sorted(results) == [1, 2, 3, 4]
    assert len({ident for ident, _ in seen}) == 1
    assert seen[0][0] != threading.get_ident()
    assert sorted(n for _, n in seen) == [1, 1, 2, 2]


def test_an_exception_reaches_the_caller() -> None:
    runner = ForwardThread()

    def boom() -> None:
        raise RuntimeError("model failed")

    with pytest.raises(RuntimeError, match="model failed"):
        runner.call(boom)
    assert runner.call(lambda: 7) == 7  # the thread survives
    runner.close()


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_encoder_forwards_share_one_thread_in_inference_and_autocast_mode(dtype: str) -> None:
    enc = create_encoder("dinov2-tiny-random", dtype=dtype, device="cpu")
    forward = enc._forward_images
    seen: list[tuple[int, bool, bool]] = []

    def spy(x: torch.Tensor) -> torch.Tensor:
        seen.append(
            (
                threading.get_ident(),
                torch.is_inference_mode_enabled(),
                torch.is_autocast_enabled("cpu"),
            )
        )
        return forward(x)

    enc._forward_images = spy  # type: ignore[method-assign]
    x = torch.rand(2, 3, enc.input_size, enc.input_size)
    with ThreadPoolExecutor(3) as pool:
        out = list(pool.map(enc.encode_images, [x] * 6))
    assert len(seen) == 6 and len({ident for ident, _, _ in seen}) == 1
    assert all(inference for _, inference, _ in seen)
    assert all(autocast == (dtype == "bfloat16") for _, _, autocast in seen)
    for vectors in out[1:]:
        torch.testing.assert_close(torch.from_numpy(vectors), torch.from_numpy(out[0]))
