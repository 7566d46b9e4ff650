"""The encoder registry: ids, lookup errors, identity without loading."""

from __future__ import annotations

import open_clip
import pytest
import timm

from blindpairs.errors import ConfigError
from embeddings import registry
from embeddings.spec import EncoderOptions


def test_paper_defaults_and_sets_are_registered() -> None:
    ids = registry.list_encoders()
    assert registry.ENCODER_SETS["paper"] == (
        "clip:ViT-L-14/openai",
        "dinov2:vit_large_patch14_dinov2.lvd142m",
    )
    for pair in registry.ENCODER_SETS.values():
        assert set(pair) <= set(ids)
    assert registry.list_encoders("clip") == [
        e for e in ids if registry.get_spec(e).family == "clip"
    ]


def test_unknown_id_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as err:
        registry.create_encoder("clip:ViT-XXL/nothing")
    for known in registry.list_encoders():
        assert known in str(err.value)


@pytest.mark.parametrize("encoder_id", ["clip:ViT-L-14/openai", "clip:ViT-B-32/laion2b_s34b_b79k"])
def test_registered_clip_dims_match_open_clip_config(encoder_id: str) -> None:
    spec = registry.get_spec(encoder_id)
    assert open_clip.get_model_config(spec.arch)["embed_dim"] == spec.dim
    assert spec.pretrained in open_clip.list_pretrained_tags_by_model(spec.arch)


def test_random_encoders_are_labelled_and_real_ones_are_not() -> None:
    for encoder_id in registry.list_encoders():
        ident = registry.describe(encoder_id)
        assert ident["random_weights"] == encoder_id.endswith("-random")
        if ident["random_weights"]:
            assert ident["weights"].startswith("random")


def test_describe_of_paper_clip_uses_the_tag_preprocessing() -> None:
    pre = registry.describe("clip:ViT-L-14/openai")["preprocessing"]
    tag = open_clip.get_pretrained_cfg("ViT-L-14", "openai")
    assert pre["size"] == 224
    assert pre["mean"] == pytest.approx(tag["mean"]) and pre["std"] == pytest.approx(tag["std"])
    assert pre["interpolation"] == tag["interpolation"] == "bicubic"


def test_dinov2_size_is_chosen_not_timms_518() -> None:
    pre = registry.describe("dinov2:vit_large_patch14_dinov2.lvd142m")["preprocessing"]
    cfg = timm.models.get_pretrained_cfg("vit_large_patch14_dinov2.lvd142m")
    assert cfg.input_size[-1] == 518 and pre["size"] == 224
    assert pre["mean"] == pytest.approx(cfg.mean) and pre["crop_pct"] == cfg.crop_pct
    other = registry.describe(
        "dinov2:vit_large_patch14_dinov2.lvd142m", EncoderOptions(image_size=518)
    )
    assert other["preprocessing"]["size"] == 518


@pytest.mark.parametrize(
    ("encoder_id", "options"),
    [
        ("dinov2-tiny-random", EncoderOptions(image_size=100)),
        ("dinov2-tiny-random", EncoderOptions(pooling="max")),
        ("clip-tiny-random", EncoderOptions(pooling="mean")),
        ("clip-tiny-random", EncoderOptions(image_size=224)),
    ],
)
def test_bad_options_fail_with_config_error(encoder_id: str, options: EncoderOptions) -> None:
    with pytest.raises(ConfigError, match=encoder_id):
        registry.describe(encoder_id, options)


def test_missing_checkpoint_file_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        registry.describe("clip-tiny-random", EncoderOptions(checkpoint=str(tmp_path / "x.pt")))
