"""bfloat16 rows for the CLIP search: rounding, the slack bound and the type chosen."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pairs import bf16
from pairs.bf16 import SLACK, held_dtype, narrow, products
from pairs.widen import BF16_BITS, gather, widen


def _nearest_even_bits(x: np.ndarray) -> np.ndarray:
    """The reference: float32 -> bfloat16 by round to nearest, ties to even, on the bits."""
    bits = x.view(np.uint32)
    odd = (bits >> np.uint32(16)) & np.uint32(1)
    return ((bits + (odd + np.uint32(0x7FFF))) >> np.uint32(16)).astype(np.uint16)


def test_narrow_rounds_to_nearest_even() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(200_000).astype(np.float32)
    bits = x.view(np.uint32).copy()
    bits[:1000] = (bits[:1000] & np.uint32(0xFFFF0000)) | np.uint32(0x8000)  # exact ties
    x = bits.view(np.float32)
    got = narrow(x)
    assert got.dtype == BF16_BITS
    np.testing.assert_array_equal(got, _nearest_even_bits(x))
    read_only = x[:10].copy()
    read_only.flags.writeable = False  # as Arrow hands out batches
    np.testing.assert_array_equal(narrow(read_only), got[:10])


def test_widen_and_gather_of_bfloat16_bits_are_exact() -> None:
    x = np.random.default_rng(1).standard_normal((50, 8)).astype(np.float32)
    held = narrow(x)
    want = (held.astype(np.uint32) << np.uint32(16)).view(np.float32)
    np.testing.assert_array_equal(widen(held), want)
    np.testing.assert_array_equal(gather(held, np.array([4, 0, 4])), want[[4, 0, 4]])


def _worst(x: np.ndarray) -> np.ndarray:
    """``x``'s signs and exponents, each component then losing almost half a bfloat16 ulp
    (downwards) at the largest relative error: significand 1 + 0x7FFF * 2**-23."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    return ((bits & np.uint32(0xFF800000)) | np.uint32(0x7FFF)).view(np.float32)


def test_bfloat16_products_stay_within_the_slack_even_at_worst() -> None:
    x = np.random.default_rng(2).standard_normal((64, 768)).astype(np.float32)
    x = _worst(x / np.linalg.norm(x, axis=1, keepdims=True))
    # scale by powers of two (the bits' rounding stays the worst) to norms in (0.5, 1]
    x *= np.exp2(-np.ceil(np.log2(np.linalg.norm(x, axis=1))))[:, None].astype(np.float32)
    norms = np.linalg.norm(x.astype(np.float64), axis=1)
    assert norms.max() <= 1.0
    exact = x.astype(np.float64) @ x.astype(np.float64).T
    err = np.abs(products(narrow(x), narrow(x)) - exact)
    assert err.max() <= SLACK
    # the rounding of the rows nearly reaches its bound (2 * 2**-8 of |x|**2): a real test
    assert (np.diag(err) / norms**2).max() > 0.9 * 2**-7


def test_products_of_other_types_are_float32_products() -> None:
    rng = np.random.default_rng(3)
    a = rng.standard_normal((20, 16)).astype(np.float32)
    b = rng.standard_normal((30, 16)).astype(np.float32)
    np.testing.assert_array_equal(products(a, b), a @ b.T)
    h = b.astype(np.float16)
    np.testing.assert_array_equal(products(a, h), a @ h.astype(np.float32).T)


@pytest.mark.parametrize(("value", "kind"), [("1", BF16_BITS), ("0", np.dtype(np.float16))])
def test_the_environment_decides_the_held_type(monkeypatch, value: str, kind: np.dtype) -> None:
    monkeypatch.setenv(bf16.ENV, value)
    bf16.enabled.cache_clear()
    try:
        assert held_dtype() == kind
    finally:
        bf16.enabled.cache_clear()


def test_without_an_override_torch_reports_the_instructions(monkeypatch) -> None:
    monkeypatch.delenv(bf16.ENV, raising=False)
    monkeypatch.setattr(
        torch.cpu, "get_capabilities", lambda: {"avx512_bf16": False}, raising=False
    )
    bf16.enabled.cache_clear()
    try:
        assert not bf16.enabled()
        bf16.enabled.cache_clear()
        monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"amx_bf16": True})
        assert bf16.enabled()
    finally:
        bf16.enabled.cache_clear()
