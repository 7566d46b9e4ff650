"""The encoder interface: images in, L2-normalised float32 vectors out.

One code path for every device: the model's float32 weights live on the
compute device, the forward pass runs under ``torch.autocast`` in the compute
dtype (bf16/fp16; none for float32), and the output is read back as float32
and normalised. ``torch.inference_mode`` throughout. Tiles go through
:mod:`embeddings.imageprep` (tensor decode, one crop, one resize); on CUDA
the resize and normalisation run on the device.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from embeddings.imageprep import TilePrep, decode_tensor, load_decoder, pil_to_tensor

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from embeddings.spec import EncoderSpec

# Smallest raw-vector norm that still counts as an embedding (below: "zero vector").
MIN_NORM = 1e-6


# the batch size on CPU when none is given (``--batch-size auto``)
CPU_BATCH = 32


def l2_normalise(raw: np.ndarray) -> np.ndarray:
    """Unit-norm rows; a row that is not finite or has (near) zero norm becomes NaN."""
    raw = np.asarray(raw, dtype=np.float32)
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    bad = ~np.isfinite(norms) | (norms < MIN_NORM)
    out = raw / np.where(bad, 1.0, norms)
    out[bad[:, 0]] = np.nan
    return out


@dataclass(frozen=True)
class EncoderMeta:
    """What an encoder is, as recorded with its embeddings.

    ``weights``: tag of the loaded weights; ``preprocessing``: see
    :mod:`embeddings.preprocessing`.
    """

    encoder_id: str
    weights: str
    dim: int
    preprocessing: dict[str, Any]
    random_weights: bool

    @classmethod
    def of(cls, spec: EncoderSpec, weights: str, preprocessing: dict[str, Any]) -> EncoderMeta:
        """The meta of a registered encoder (``spec``) loaded with ``weights``."""
        return cls(
            encoder_id=spec.encoder_id,
            weights=weights,
            dim=spec.dim,
            preprocessing=preprocessing,
            random_weights=spec.random_weights,
        )


class ImageEncoder:
    """A loaded image encoder (CLIP image tower or DINOv2 backbone).

    Attributes: those of its :class:`EncoderMeta` (``encoder_id``, ``weights``,
    ``dim``, ``preprocessing``, ``random_weights``), ``device`` and
    ``compute_dtype`` (names).
    """

    family = "image"

    def __init__(
        self,
        meta: EncoderMeta,
        model: torch.nn.Module,
        transform: Callable[[Image.Image], torch.Tensor],
        device: torch.device,
        compute_dtype: torch.dtype,
    ) -> None:
        self.meta = meta
        self.encoder_id = meta.encoder_id
        self.weights = meta.weights
        self.dim = meta.dim
        self.preprocessing = meta.preprocessing
        self.random_weights = meta.random_weights
        import torch

        self.model = model.eval().to(device=device, dtype=torch.float32)
        self.transform = transform
        self.prep = TilePrep.from_preprocessing(meta.preprocessing)
        self._device = device
        self._dtype = compute_dtype
        self._batch_size: int | None = None
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
    @property
    def _prep_on_device(self) -> bool:
        return self.prep is not None and self._device.type == "cuda"

    def prepare_tile(self, data: bytes | None) -> torch.Tensor:
        """The CPU side of one tile (thread-safe; decoding releases the GIL).

        On CUDA: the decoded uint8 image (resized on the device later);
        elsewhere: the model input, (3, size, size) float32.
        """
        if self.prep is None:  # a preprocessing imageprep does not implement
            from embeddings.tiles import decode

            return self.transform(decode(data))
        image = decode_tensor(data)
        return image if self._prep_on_device else self.prep.full(image)

    def encode_prepared(self, tensors: Sequence[torch.Tensor]) -> np.ndarray:
        """Embed the outputs of :meth:`prepare_tile` (one batch)."""
        import torch

        if self.prep is not None and self._prep_on_device:
            return self.encode_images(self.prep.on_device(tensors, self._device))
        return self.encode_images(torch.stack(list(tensors)))

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Stack ``images`` (PIL, any mode) into one model-input batch."""
        import torch

        if self.prep is None:
            return torch.stack([self.transform(im.convert("RGB")) for im in images])
        return torch.stack([self.prep.full(pil_to_tensor(im)) for im in images])

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
        with self._lock, torch.inference_mode(), self._autocast():
            raw = self._forward_images(x.to(device=self._device, dtype=torch.float32))
            raw = raw.float().cpu().numpy()
        return l2_normalise(raw)

    def _autocast(self) -> Any:
        import torch

        enabled = self._dtype != torch.float32
        return torch.autocast(self._device.type, dtype=self._dtype, enabled=enabled)

    def warm_up(self) -> None:
        """Pay one-time costs (PNG decoder import, first forward) now, not on the first batch."""
        import torch

        if self.prep is not None:
            load_decoder()
        size = self.input_size
        self.encode_images(torch.zeros(1, 3, size, size))

    def batch_size(self, requested: int | None) -> int:
        """``requested``, or for ``None`` (auto): 32 on CPU, by free memory on CUDA."""
        if requested:
            return int(requested)
        if self._device.type != "cuda":
            return CPU_BATCH
        if self._batch_size is None:
            import torch

            from embeddings.device import batch_for_memory

            free, _ = torch.cuda.mem_get_info(self._device)
            self._batch_size = batch_for_memory(free, self._bytes_per_image())
        return self._batch_size

    def _bytes_per_image(self, n: int = 4) -> float:
        """Peak CUDA memory of ``n`` images through the model, per image (measured once)."""
        import torch

        torch.cuda.synchronize(self._device)
        torch.cuda.reset_peak_memory_stats(self._device)
        base = torch.cuda.memory_allocated(self._device)
        size = self.input_size
        self.encode_images(torch.zeros(n, 3, size, size, device=self._device))
        torch.cuda.synchronize(self._device)
        return (torch.cuda.max_memory_allocated(self._device) - base) / n

    def _forward_images(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
