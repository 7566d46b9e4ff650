"""float16 -> float32 widening with torch: exact, and torch only on the float16 path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from pairs.widen import gather, narrow_into, widen

REPO = Path(__file__).resolve().parents[2]


def _halves() -> np.ndarray:
    bits = np.arange(1 << 16, dtype=np.uint16)
    x = bits.view(np.float16)
    return x[np.isfinite(x)].reshape(-1, 2)  # every finite value, subnormals included


def test_widen_and_gather_equal_numpys_cast_bit_for_bit() -> None:
    x = _halves()
    assert np.array_equal(widen(x).view(np.uint32), x.astype(np.float32).view(np.uint32))
    rows = np.array([5, 0, 5, len(x) - 1, 3], dtype=np.int64)
    got = gather(x, rows)
    assert got.dtype == np.float32
    assert np.array_equal(got.view(np.uint32), x[rows].astype(np.float32).view(np.uint32))


def test_read_only_float16_rows_are_widened_without_a_torch_warning() -> None:
    import warnings

    x = _halves()[:100].copy()
    x.flags.writeable = False  # as Dask hands scattered arrays to a worker
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = gather(x, np.array([3, 1]))
        whole = widen(x)
    assert np.array_equal(got, x[[3, 1]].astype(np.float32))
    assert np.array_equal(whole, x.astype(np.float32))


def test_float32_rows_pass_through_without_torch() -> None:
    code = (
        "import sys, numpy as np\n"
        "from pairs.widen import gather, narrow_into, widen\n"
        "x = np.ones((4, 3), np.float32)\n"
        "assert widen(x) is x and gather(x, np.array([1, 1])).shape == (2, 3)\n"
        "assert 'torch' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stderr


def test_torch_thread_count_is_restored_after_conversions() -> None:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        gather(np.ones((4, 3), np.float16), np.array([0, 2]))
        widen(np.ones((2, 2), np.float16))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_pool_threads_convert_on_one_thread_each_and_leave_others_alone() -> None:
    """The thread count is per thread: a pool thread leaving never raises another's."""
    import threading

    import torch

    from pairs.widen import torch_one_thread

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    inside: list[int] = []
    first_in, second_left = threading.Event(), threading.Event()

    def first() -> None:
        with torch_one_thread() as t:
            first_in.set()
            second_left.wait(10)
            inside.append(t.get_num_threads())  # still 1 after the other thread left

    def second() -> None:
        first_in.wait(10)
        torch.set_num_threads(2)
        with torch_one_thread() as t:
            inside.append(t.get_num_threads())
        inside.append(torch.get_num_threads())  # its own count restored
        second_left.set()

    try:
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(inside) == [1, 1, 2]
        assert torch.get_num_threads() == 2  # the main thread's count untouched
    finally:
        torch.set_num_threads(before)


def test_narrow_into_rounds_as_numpy_does() -> None:
    halves = np.sort(_halves().ravel().astype(np.float32))
    ties = (halves[:-1] + halves[1:]) / 2  # exactly between two halves: round to even
    near = np.concatenate([ties, np.nextafter(ties, np.inf), np.nextafter(ties, -np.inf)])
    rows = np.concatenate([halves, near, [65520.0, -65520.0, 1e-9]]).astype(np.float32)
    rows = np.resize(rows, (len(rows) // 64 + 1) * 64).reshape(-1, 64)  # past fp16: inf, 0
    with np.errstate(over="ignore"):
        want = rows.astype(np.float16)
    out = np.zeros((len(rows) + 30, 64), dtype=np.float16)
    narrow_into(out[20 : 20 + len(rows)], rows)  # a view of a larger array, as the load fills
    np.testing.assert_array_equal(out[20 : 20 + len(rows)].view(np.uint16), want.view(np.uint16))
    assert not out[:20].any() and not out[20 + len(rows) :].any()


def test_narrow_into_leaves_other_types_to_numpy() -> None:
    rows = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = np.zeros((3, 4), dtype=np.float32)
    narrow_into(out, rows)
    np.testing.assert_array_equal(out, rows)
