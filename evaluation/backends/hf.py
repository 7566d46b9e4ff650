"""``hf:<model_id>``: a local Hugging Face image-text-to-text model via transformers.

``<model_id>`` is a Hub id found in the local cache (``HF_HOME``) or a local
folder. transformers is imported only here, only when this backend is used;
without it, or without the weights, the error says how to get them.
"""

from __future__ import annotations

import io
import time
from typing import Any

from blindpairs.errors import ConfigError
from blindpairs.workspace import safe_name
from evaluation.backends.base import Query, Reply
from evaluation.params import EvaluateParams

INSTALL_HINT = "pip install 'transformers>=4.45' accelerate"


def _import_transformers() -> Any:
    try:
        import transformers
    except ImportError:
        raise ConfigError(
            f"hf: backends need the transformers package, which is not installed: {INSTALL_HINT}"
        ) from None
    return transformers


def _device(choice: str) -> str:
    import torch

    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available")
    return choice


class HFBackend:
    """Greedy generation with a transformers image-text-to-text model."""

    random_weights = False
    cacheable = True
    concurrency = 1

    def __init__(self, model_id: str, params: EvaluateParams) -> None:
        transformers = _import_transformers()
        import torch

        self.id = f"hf:{model_id}"
        self.cache_id = f"{self.id}|greedy|max_tokens={params.max_tokens}"
        self.slug = slug(model_id, params)
        self.max_tokens = params.max_tokens
        self.device = _device(params.device)
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        try:
            self.processor = transformers.AutoProcessor.from_pretrained(model_id)
            self.model = transformers.AutoModelForImageTextToText.from_pretrained(
                model_id, torch_dtype=dtype
            ).to(self.device)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{self.id}: cannot load the model ({exc}); download it first "
                f"(huggingface-cli download {model_id}) or pass a local folder as hf:/path"
            ) from None
        self.model.eval()

    def answer(self, query: Query) -> Reply:
        import torch
        from PIL import Image

        start = time.monotonic()
        image = Image.open(io.BytesIO(query.item.image)).convert("RGB")
        messages = [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": query.prompt}]}
        ]
        text = self.processor.apply_chat_template(messages, add_generation_prompt=True)
        inputs = self.processor(images=[image], text=[text], return_tensors="pt").to(self.device)
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.max_tokens, do_sample=False)
        new_tokens = out[:, inputs["input_ids"].shape[1] :]
        reply = self.processor.batch_decode(new_tokens, skip_special_tokens=True)[0].strip()
        return Reply(text=reply, latency_s=time.monotonic() - start)

    def close(self) -> None:
        self.model = None


def slug(arg: str, params: EvaluateParams) -> str:
    return safe_name(f"hf:{arg}")


def create(arg: str, params: EvaluateParams) -> HFBackend:
    return HFBackend(arg, params)
