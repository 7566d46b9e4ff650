"""Loaded encoders: deterministic unit vectors, checkpoints, model/transform agreement."""

from __future__ import annotations

import numpy as np
import pytest
import timm.data
import torch
from PIL import Image

from embeddings import device as devices
from embeddings import registry
from embeddings.registry import create_encoder

TINY = ("clip-tiny-random", "dinov2-tiny-random")


@pytest.mark.parametrize("encoder_id", TINY)
def test_tiny_encoders_are_deterministic_unit_vectors(encoder_id: str, make_images) -> None:
    a = create_encoder(encoder_id, dtype="float32", device="cpu")
    b = create_encoder(encoder_id, dtype="float32", device="cpu")
    ims = make_images(5)
    va, vb = a.encode_images(ims), b.encode_images(ims)
    assert va.shape == (5, registry.get_spec(encoder_id).dim) and va.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(va, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(va, vb)
    # different images, different vectors
    assert np.abs(va[0] - va[1]).max() > 1e-3
    assert a.random_weights and a.info()["random_weights"] is True


@pytest.mark.parametrize("encoder_id", TINY)
def test_tensor_input_equals_pil_input(encoder_id: str, make_images) -> None:
    enc = create_encoder(encoder_id, dtype="float32", device="cpu")
    ims = make_images(3)
    np.testing.assert_allclose(
        enc.encode_images(enc.preprocess(ims)), enc.encode_images(ims), atol=1e-6
    )
    with pytest.raises(ValueError, match="expected input of shape"):
        enc.encode_images(torch.zeros(2, 3, enc.input_size + 14, enc.input_size + 14))


@pytest.mark.parametrize("encoder_id", TINY)
def test_checkpoint_round_trip_gives_identical_embeddings(
    encoder_id: str, tmp_path, make_images
) -> None:
    original = create_encoder(encoder_id, dtype="float32", device="cpu")
    # perturb the weights so the checkpoint differs from the seeded init
    with torch.no_grad():
        for p in original.model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    path = tmp_path / "weights.pt"
    torch.save(original.model.state_dict(), path)
    loaded = create_encoder(encoder_id, checkpoint=str(path), dtype="float32", device="cpu")
    ims = make_images(4)
    np.testing.assert_array_equal(loaded.encode_images(ims), original.encode_images(ims))
    assert loaded.weights.startswith("file:weights.pt:sha256-")
    assert (
        registry.describe(encoder_id, registry.EncoderOptions(checkpoint=str(path)))["weights"]
        == loaded.weights
    )
    fresh = create_encoder(encoder_id, dtype="float32", device="cpu")
    assert np.abs(fresh.encode_images(ims) - loaded.encode_images(ims)).max() > 1e-4


def test_clip_transform_matches_model_and_tag_config() -> None:
    enc = create_encoder("clip-tiny-random", dtype="float32", device="cpu")
    size = enc.model.visual.image_size
    size = size[0] if isinstance(size, tuple) else size
    assert enc.preprocessing["size"] == size
    x = enc.transform(Image.new("RGB", (130, 90)))
    assert tuple(x.shape) == (3, size, size)
    assert enc.model.visual.preprocess_cfg["mean"] == tuple(enc.preprocessing["mean"])
    assert enc.info() == {
        **registry.describe("clip-tiny-random"),
        "device": "cpu",
        "compute_dtype": "float32",
    }


@pytest.mark.parametrize("size", [56, 84])
def test_dinov2_model_and_transform_agree_on_the_chosen_size(size: int, make_images) -> None:
    enc = create_encoder("dinov2-tiny-random", dtype="float32", device="cpu", image_size=size)
    assert tuple(enc.model.patch_embed.img_size) == (size, size)
    x = enc.transform(Image.new("RGB", (200, 150)))
    assert tuple(x.shape) == (3, size, size)
    # timm's resolve_data_config alone would have said 518 (the pretrained config)
    assert timm.data.resolve_model_data_config(enc.model)["input_size"][-1] == 518
    assert enc.encode_images(make_images(2)).shape == (2, 64)


def test_dinov2_mean_pooling_differs_from_class_token(make_images) -> None:
    cls = create_encoder("dinov2-tiny-random", dtype="float32", device="cpu")
    mean = create_encoder("dinov2-tiny-random", dtype="float32", device="cpu", pooling="mean")
    ims = make_images(3)
    assert mean.preprocessing["pooling"] == "mean"
    assert np.abs(cls.encode_images(ims) - mean.encode_images(ims)).max() > 1e-3


def test_small_real_dinov2_architecture_builds_at_224(tmp_path) -> None:
    spec = registry.get_spec("dinov2:vit_small_patch14_dinov2.lvd142m")
    import dataclasses

    random_spec = dataclasses.replace(spec, pretrained=None, config_tag=spec.pretrained)
    enc = registry.FAMILIES["dinov2"].load(random_spec, registry.EncoderOptions(), "cpu", "float32")
    assert enc.dim == 384 and tuple(enc.model.patch_embed.img_size) == (224, 224)
    assert enc.preprocessing == registry.describe(spec.encoder_id)["preprocessing"]


def test_encode_texts_unit_norm_and_distinct() -> None:
    enc = create_encoder("clip-tiny-random", dtype="float32", device="cpu")
    t = enc.encode_texts(["an airport runway", "a field of crops"])
    assert t.shape == (2, 32)
    np.testing.assert_allclose(np.linalg.norm(t, axis=1), 1.0, atol=1e-5)
    assert np.abs(t[0] - t[1]).max() > 1e-4


def test_zero_vectors_become_nan_not_unit_vectors() -> None:
    from embeddings.encoder import l2_normalise

    out = l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0], [np.inf, 1.0]]))
    np.testing.assert_allclose(out[0], [0.6, 0.8])
    assert np.isnan(out[1]).all() and np.isnan(out[2]).all()


def test_device_values() -> None:
    assert devices.parse_device("CUDA:1") == "cuda:1"
    with pytest.raises(ValueError):
        devices.parse_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(devices.ConfigError, match="CUDA is not available"):
            devices.resolve_device("cuda")
