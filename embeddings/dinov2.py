"""DINOv2 image encoders from timm: the class token (or mean patch token), L2-normalised.

timm builds DINOv2 at 518 px by default and ``resolve_data_config`` keeps
reporting 518 even for a model built with ``img_size=224``; here the model is
built at the chosen size (position embeddings resampled by timm on load) and
the transform is made for the model's actual ``patch_embed.img_size``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blindpairs.errors import ConfigError
from embeddings import device as devices
from embeddings import weights as wts
from embeddings.encoder import EncoderMeta, ImageEncoder
from embeddings.preprocessing import make_preprocessing
from embeddings.spec import EncoderOptions, EncoderSpec

if TYPE_CHECKING:
    import torch

CHECKPOINT_FLAG = "--dino-checkpoint"
PATCH = 14
POOLINGS = ("cls", "mean")


class Dinov2Encoder(ImageEncoder):
    """A timm DINOv2 ViT; the embedding is the final-norm class (or mean patch) token."""

    family = "dinov2"

    def _forward_images(self, x: torch.Tensor) -> torch.Tensor:
        return pool_tokens(
            self.model, self.model.forward_features(x), self.preprocessing["pooling"]
        )


def pool_tokens(model: Any, tokens: torch.Tensor, pooling: str) -> torch.Tensor:
    """Class token, or the mean of the patch tokens (after prefix/register tokens)."""
    if pooling == "cls":
        return tokens[:, 0]
    return tokens[:, model.num_prefix_tokens :].mean(dim=1)


def _cfg_name(spec: EncoderSpec) -> str:
    tag = spec.pretrained or spec.config_tag
    return f"{spec.arch}.{tag}" if tag else spec.arch


def _pretrained_cfg(spec: EncoderSpec) -> Any:
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(_cfg_name(spec))
    if cfg is None:
        raise ConfigError(f"{spec.encoder_id}: timm has no pretrained config {_cfg_name(spec)!r}")
    return cfg


def _size_and_pooling(spec: EncoderSpec, options: EncoderOptions) -> tuple[int, str]:
    size = int(options.image_size or spec.image_size)
    if size <= 0 or size % PATCH:
        raise ConfigError(
            f"{spec.encoder_id}: input size {size} must be a positive multiple of the "
            f"patch size {PATCH} (e.g. 224 or 518)"
        )
    pooling = options.pooling or "cls"
    if pooling not in POOLINGS:
        raise ConfigError(f"{spec.encoder_id}: pooling {pooling!r}: expected one of {POOLINGS}")
    return size, pooling


def preprocessing(spec: EncoderSpec, options: EncoderOptions) -> dict[str, Any]:
    """timm's pretrained config (mean, std, interpolation, crop) at the chosen size."""
    size, pooling = _size_and_pooling(spec, options)
    cfg = _pretrained_cfg(spec)
    return make_preprocessing(
        size=size,
        mean=cfg.mean,
        std=cfg.std,
        interpolation=cfg.interpolation,
        resize="shortest",
        crop_pct=cfg.crop_pct,
        pooling=pooling,
    )


def weights_tag(spec: EncoderSpec, options: EncoderOptions) -> str:
    return wts.checkpoint_tag(options.checkpoint) if options.checkpoint else spec.default_weights


def _download(cfg: Any) -> str:
    """The weights file of a timm pretrained config from the HF cache/hub (or its URL)."""
    if cfg.hf_hub_id:
        from huggingface_hub import hf_hub_download

        try:
            return hf_hub_download(cfg.hf_hub_id, "model.safetensors")
        except Exception:
            return hf_hub_download(cfg.hf_hub_id, "pytorch_model.bin")
    from timm.models._hub import download_cached_file

    return download_cached_file(cfg.url)


def _weights_file(spec: EncoderSpec, options: EncoderOptions) -> str | None:
    if options.checkpoint:
        return options.checkpoint
    if spec.pretrained is None:
        return None
    cfg = _pretrained_cfg(spec)
    source = f"timm {_cfg_name(spec)} ({cfg.hf_hub_id or cfg.url})"
    return wts.fetch(spec.encoder_id, source, CHECKPOINT_FLAG, lambda: _download(cfg))


def data_config(model: Any, pre: dict[str, Any]) -> dict[str, Any]:
    """timm's data config for ``model`` at the model's real input size."""
    import timm.data

    cfg = timm.data.resolve_model_data_config(model)
    cfg["input_size"] = (3, *model.patch_embed.img_size)
    cfg["crop_pct"] = pre["crop_pct"]
    cfg["crop_mode"] = pre["crop"]
    return cfg


def load(
    spec: EncoderSpec, options: EncoderOptions, device: str | None, dtype: str | None
) -> Dinov2Encoder:
    """Build the ViT at the chosen size, load its weights (strictly) and wrap it."""
    import timm
    import timm.data
    import torch

    pre = preprocessing(spec, options)
    path = _weights_file(spec, options)
    kwargs: dict[str, Any] = dict(spec.overrides)
    if path:
        kwargs["pretrained_cfg_overlay"] = {"file": path}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)
        model = timm.create_model(
            _cfg_name(spec), pretrained=bool(path), img_size=pre["size"], num_classes=0, **kwargs
        )
    if model.embed_dim != spec.dim:
        raise ConfigError(
            f"{spec.encoder_id}: registered dim {spec.dim} but the model gives "
            f"{model.embed_dim}; fix the registry entry"
        )
    transform = timm.data.create_transform(**data_config(model, pre), is_training=False)
    dev = devices.resolve_device(device)
    compute = devices.resolve_compute_dtype(dtype, dev)
    return Dinov2Encoder(
        EncoderMeta.of(spec, weights_tag(spec, options), pre),
        model=model,
        transform=transform,
        device=dev,
        compute_dtype=compute,
    )
