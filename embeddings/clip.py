"""CLIP image encoders from open_clip: the projected image feature (``encode_image``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from blindpairs.errors import ConfigError
from embeddings import device as devices
from embeddings import weights as wts
from embeddings.encoder import EncoderMeta, ImageEncoder, l2_normalise
from embeddings.preprocessing import make_preprocessing
from embeddings.spec import EncoderOptions, EncoderSpec

if TYPE_CHECKING:
    import torch

CHECKPOINT_FLAG = "--clip-checkpoint"


class ClipEncoder(ImageEncoder):
    """An open_clip CLIP model; images and texts embed into the same space."""

    family = "clip"

    def __init__(self, *args: Any, tokenizer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokenizer = tokenizer

    def _forward_images(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(x)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised text embeddings (float32, (n, dim)) via open_clip's tokenizer."""
        import torch

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        tokens = self.tokenizer(list(texts)).to(self._device)
        with self._lock, torch.inference_mode():
            raw = self.model.encode_text(tokens).float().cpu().numpy()
        return l2_normalise(raw)


def _check_options(spec: EncoderSpec, options: EncoderOptions) -> None:
    if options.pooling not in (None, "projection"):
        raise ConfigError(f"{spec.encoder_id}: pooling {options.pooling!r} applies to DINOv2 only")
    if options.image_size not in (None, spec.image_size):
        raise ConfigError(
            f"{spec.encoder_id}: input size is fixed at {spec.image_size} by the model config"
        )


def _model_overrides(spec: EncoderSpec) -> dict[str, Any]:
    return dict(spec.overrides)


def _tag_cfg(spec: EncoderSpec) -> dict[str, Any]:
    import open_clip

    tag = spec.pretrained or spec.config_tag
    return dict(open_clip.get_pretrained_cfg(spec.arch, tag)) if tag else {}


def preprocessing(spec: EncoderSpec, options: EncoderOptions) -> dict[str, Any]:
    """open_clip's own preprocessing for this model and tag (without loading it)."""
    import open_clip
    from open_clip.transform import PreprocessCfg, merge_preprocess_dict

    _check_options(spec, options)
    vision = dict(open_clip.get_model_config(spec.arch)["vision_cfg"])
    vision.update(_model_overrides(spec).get("vision_cfg", {}))
    cfg = merge_preprocess_dict(
        dataclasses.asdict(PreprocessCfg(size=vision["image_size"])), _tag_cfg(spec)
    )
    return make_preprocessing(
        size=cfg["size"],
        mean=cfg["mean"],
        std=cfg["std"],
        interpolation=cfg["interpolation"],
        resize=cfg["resize_mode"],
        crop_pct=1.0,
        pooling="projection",
    )


def weights_tag(spec: EncoderSpec, options: EncoderOptions) -> str:
    return wts.checkpoint_tag(options.checkpoint) if options.checkpoint else spec.default_weights


def _weights_file(spec: EncoderSpec, options: EncoderOptions) -> str | None:
    from open_clip.pretrained import download_pretrained

    if options.checkpoint:
        return options.checkpoint
    if spec.pretrained is None:
        return None
    cfg = _tag_cfg(spec)
    source = f"open_clip tag {spec.pretrained!r} ({cfg.get('hf_hub') or cfg.get('url')})"
    return wts.fetch(spec.encoder_id, source, CHECKPOINT_FLAG, lambda: download_pretrained(cfg))


def load(
    spec: EncoderSpec, options: EncoderOptions, device: str | None, dtype: str | None
) -> ClipEncoder:
    """Build the model, load its weights (strictly) and wrap it."""
    import open_clip
    import torch
    from open_clip.transform import PreprocessCfg, image_transform_v2

    pre = preprocessing(spec, options)
    path = _weights_file(spec, options)
    forced = {
        "size": pre["size"],
        "mean": tuple(pre["mean"]),
        "std": tuple(pre["std"]),
        "interpolation": pre["interpolation"],
        "resize_mode": pre["resize"],
    }
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)
        model = open_clip.create_model(
            spec.arch,
            pretrained=path,
            force_quick_gelu=bool(_tag_cfg(spec).get("quick_gelu", False)),
            force_preprocess_cfg=forced,
            **_model_overrides(spec),
        )
    if int(model.visual.output_dim) != spec.dim:
        raise ConfigError(
            f"{spec.encoder_id}: registered dim {spec.dim} but the model gives "
            f"{model.visual.output_dim}; fix the registry entry"
        )
    transform = image_transform_v2(PreprocessCfg(**model.visual.preprocess_cfg), is_train=False)
    dev = devices.resolve_device(device)
    compute = devices.resolve_compute_dtype(dtype, dev)
    return ClipEncoder(
        EncoderMeta.of(spec, weights_tag(spec, options), pre),
        model=model,
        transform=transform,
        device=dev,
        compute_dtype=compute,
        tokenizer=open_clip.get_tokenizer(spec.arch),
    )
