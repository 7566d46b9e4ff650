"""The tensor preprocessing path against the models' own PIL transforms, and the batch rule."""

from __future__ import annotations

import io

import numpy as np
import pytest
import timm.data
import torch
from PIL import Image

from embeddings.device import batch_for_memory
from embeddings.imageprep import TilePrep, decode_tensor
from embeddings.registry import create_encoder
from embeddings.tiles import decode

# Documented tolerance (README, Performance): per pixel at most 1.5 grey levels
# apart before normalisation, embeddings at cosine >= 0.9999.
MAX_LEVELS = 1.5
MIN_COSINE = 0.9999


def png(width: int, height: int, seed: int = 0, mode: str = "RGB") -> bytes:
    """A structured (not pure noise) seeded image: smooth gradients, edges and noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 120 + 80 * np.sin(xx / (7 + seed)) * np.cos(yy / 11)
    arr = np.stack([base, base[::-1], 255 - base], axis=-1) + rng.normal(0, 12, (height, width, 3))
    arr[height // 3 : height // 2, width // 4 : width // 2] = (250, 30, 30)
    image = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).convert(mode)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


SHAPES = [(512, 512), (300, 200), (97, 131), (64, 64)]


def levels(prep: TilePrep, x: torch.Tensor) -> torch.Tensor:
    """Undo the normalisation: back to 0-255 grey levels."""
    mean = torch.tensor(prep.mean).view(-1, 3, 1, 1)
    std = torch.tensor(prep.std).view(-1, 3, 1, 1)
    return (x * std + mean) * 255


@pytest.mark.parametrize("encoder_id", ["clip-tiny-random", "dinov2-tiny-random"])
def test_tensor_path_matches_the_models_pil_transform(encoder_id: str) -> None:
    enc = create_encoder(encoder_id, device="cpu", dtype="float32")
    assert enc.prep is not None
    tiles = [png(w, h, seed=i) for i, (w, h) in enumerate(SHAPES)]
    tiles.append(png(200, 150, seed=9, mode="L"))  # grey PNG decodes to RGB too
    old = torch.stack([enc.transform(decode(t)) for t in tiles])
    new = torch.stack([enc.prepare_tile(t) for t in tiles])
    assert new.shape == old.shape and new.dtype == torch.float32
    diff = (levels(enc.prep, new) - levels(enc.prep, old)).abs()
    assert diff.max() <= MAX_LEVELS
    cos = (enc.encode_images(old) * enc.encode_images(new)).sum(axis=1)
    assert cos.min() >= MIN_COSINE


@pytest.mark.parametrize("shape", [(512, 512), (300, 200), (131, 97)])
def test_crop_pct_below_one_crops_like_timm(shape) -> None:
    """timm's transform at crop_pct 0.875: short side to 256, centre crop 224."""
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    prep = TilePrep(224, 0.875, mean, std, "bicubic", squash=False)
    reference = timm.data.create_transform(
        input_size=(3, 224, 224), crop_pct=0.875, interpolation="bicubic", mean=mean, std=std
    )
    data = png(*shape, seed=3)
    old = reference(decode(data)).unsqueeze(0)
    new = prep.full(decode_tensor(data)).unsqueeze(0)
    assert (levels(prep, new) - levels(prep, old)).abs().max() <= MAX_LEVELS


def test_device_batches_equal_the_cpu_path_and_keep_order() -> None:
    prep = TilePrep(64, 1.0, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), "bicubic", squash=False)
    images = [decode_tensor(png(w, h, seed=i)) for i, (w, h) in enumerate(SHAPES + SHAPES[:1])]
    expected = torch.stack([prep.full(im) for im in images])
    got = prep.on_device(images, torch.device("cpu"))
    torch.testing.assert_close(got, expected)
    # the device resize (float, rounded) is the uint8 one within a grey level
    one = images[0].unsqueeze(0)
    shape = prep.resized_shape(*one.shape[-2:])
    assert (prep.resize_float(one, shape) - prep.resize(one).float()).abs().max() <= 1


def test_corrupt_or_empty_data_raises() -> None:
    data = png(64, 64)
    with pytest.raises(RuntimeError):
        decode_tensor(data[:60])
    with pytest.raises(ValueError, match="empty"):
        decode_tensor(b"")
    jpeg = io.BytesIO()
    Image.new("RGB", (20, 10), (10, 200, 30)).save(jpeg, format="JPEG")
    assert tuple(decode_tensor(jpeg.getvalue()).shape) == (3, 10, 20)


def test_unsupported_resize_mode_falls_back_to_the_model_transform() -> None:
    enc = create_encoder("clip-tiny-random", device="cpu", dtype="float32")
    enc.prep = TilePrep.from_preprocessing({**enc.preprocessing, "resize": "longest"})
    assert enc.prep is None  # open_clip's letterbox mode: not implemented on tensors
    data = png(90, 60)
    torch.testing.assert_close(enc.prepare_tile(data), enc.transform(decode(data)))


@pytest.mark.parametrize(
    ("free", "per_image", "expected"),
    [
        (80 * 2**30, 14 * 2**20, 1024),  # an H100: capped
        (8 * 2**30, 14 * 2**20, 256),  # 8 GiB free: 0.6 * 8 GiB / 14 MiB = 351 -> 256
        (2**30, 14 * 2**20, 32),  # 1 GiB free: 43 -> 32
        (10 * 2**20, 14 * 2**20, 1),  # less than one image: still 1
        (0, 14 * 2**20, 1),
    ],
)
def test_batch_size_by_free_memory(free: int, per_image: int, expected: int) -> None:
    assert batch_for_memory(free, per_image) == expected


def test_auto_batch_size_on_cpu_is_32_and_explicit_wins() -> None:
    enc = create_encoder("clip-tiny-random", device="cpu", dtype="float32")
    assert enc.batch_size(None) == 32 and enc.batch_size(5) == 5
