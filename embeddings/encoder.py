"""The encoder interface: images in, L2-normalised float32 vectors out.

One code path for every device: the model's weights live in the compute dtype
on the compute device, inputs are cast to match, and the output is read back
as float32 and normalised. ``torch.inference_mode`` throughout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
    from PIL import Image

# Smallest raw-vector norm that still counts as an embedding (below: "zero vector").
MIN_NORM = 1e-6


def l2_normalise(raw: np.ndarray) -> np.ndarray:
    """Unit-norm rows; a row that is not finite or has (near) zero norm becomes NaN."""
    raw = np.asarray(raw, dtype=np.float32)
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    bad = ~np.isfinite(norms) | (norms < MIN_NORM)
    out = raw / np.where(bad, 1.0, norms)
    out[bad[:, 0]] = np.nan
    return out


class ImageEncoder:
    """A loaded image encoder (CLIP image tower or DINOv2 backbone).

    Attributes: ``encoder_id``, ``weights`` (tag of the loaded weights),
    ``dim``, ``preprocessing`` (see :mod:`embeddings.preprocessing`),
    ``random_weights``, ``device`` and ``compute_dtype`` (names).
    """

    family = "image"

    def __init__(
        self,
        *,
        encoder_id: str,
        weights: str,
        dim: int,
        preprocessing: dict[str, Any],
        random_weights: bool,
        model: torch.nn.Module,
        transform: Callable[[Image.Image], torch.Tensor],
        device: torch.device,
        compute_dtype: torch.dtype,
    ) -> None:
        self.encoder_id = encoder_id
        self.weights = weights
        self.dim = dim
        self.preprocessing = preprocessing
        self.random_weights = random_weights
        self.model = model.eval().to(device=device, dtype=compute_dtype)
        self.transform = transform
        self._device = device
        self._dtype = compute_dtype
        # One forward at a time per model: concurrent tasks on a threaded Dask
        # worker decode images in parallel while the model runs.
        self._lock = threading.Lock()

    # ------------------------------------------------------------ properties
    @property
    def device(self) -> str:
        return str(self._device)

    @property
    def compute_dtype(self) -> str:
        return str(self._dtype).removeprefix("torch.")

    @property
    def input_size(self) -> int:
        return int(self.preprocessing["size"])

    def info(self) -> dict[str, Any]:
        """The metadata every embeddings part carries (plus how it was computed)."""
        return {
            "encoder_id": self.encoder_id,
            "weights": self.weights,
            "preprocessing": self.preprocessing,
            "dim": self.dim,
            "random_weights": self.random_weights,
            "device": self.device,
            "compute_dtype": self.compute_dtype,
        }

    # ------------------------------------------------------------ encoding
    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Stack ``images`` (PIL, any mode) into one model-input batch."""
        import torch

        return torch.stack([self.transform(im.convert("RGB")) for im in images])

    def encode_images(self, images: Sequence[Image.Image] | torch.Tensor) -> np.ndarray:
        """Embed PIL images or a preprocessed (n, 3, size, size) tensor.

        Returns a float32 array (n, dim) of L2-normalised rows; a row whose
        raw vector is not finite or is zero comes back as NaN.
        """
        import torch

        x = images if isinstance(images, torch.Tensor) else self.preprocess(images)
        if x.ndim != 4 or tuple(x.shape[1:]) != (3, self.input_size, self.input_size):
            raise ValueError(
                f"{self.encoder_id}: expected input of shape (n, 3, {self.input_size}, "
                f"{self.input_size}), got {tuple(x.shape)}"
            )
        if x.shape[0] == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock, torch.inference_mode():
            raw = self._forward_images(x.to(device=self._device, dtype=self._dtype))
            raw = raw.float().cpu().numpy()
        return l2_normalise(raw)

    def _forward_images(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
