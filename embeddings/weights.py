"""Where an encoder's weights come from: a pretrained tag (usual caches) or a local file.

The weights tag recorded with every embedding says which: the pretrained tag
(``openai``, ``lvd142m``), ``random-seed<N>`` for the tiny random encoders, or
``file:<name>:sha256-<12 hex>`` for a checkpoint file (its content hash, so the
same file under another path is the same weights).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from blindpairs.errors import ConfigError
from embeddings.errors import (
    CheckpointError,
    WeightsUnavailableError,
    checkpoint_unreadable,
    weights_unavailable,
)

_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def checkpoint_tag(path: str | os.PathLike[str]) -> str:
    """``file:<name>:sha256-<12 hex>`` of a checkpoint file (hash cached per size/mtime)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"checkpoint {p}: no such file; pass the path of a local weights file")
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        digest = hashlib.sha256()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                digest.update(block)
        _HASH_CACHE[key] = digest.hexdigest()[:12]
    return f"file:{p.name}:sha256-{_HASH_CACHE[key]}"


def fetch(encoder_id: str, source: str, flag: str, download: Callable[[], str]) -> str:
    """Run ``download`` (cache look-up or download) and return the local file path.

    Any failure becomes a :class:`WeightsUnavailableError` naming the encoder
    and saying how to supply the weights.
    """
    try:
        path = download()
    except Exception as exc:  # hub, network and cache errors all mean "not available"
        first = str(exc).splitlines()[0].rstrip(". ") if str(exc) else ""
        reason = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        raise WeightsUnavailableError(
            weights_unavailable(encoder_id, source, reason, flag)
        ) from exc
    if not path or not Path(path).is_file():
        raise WeightsUnavailableError(
            weights_unavailable(encoder_id, source, "no weights file was found", flag)
        )
    return str(path)


def _load_state(path: str) -> Any:
    """The object in a checkpoint file, read the way open_clip and timm read it."""
    if path.endswith(".safetensors"):
        from safetensors import safe_open

        with safe_open(path, framework="pt") as fh:
            return {k: None for k in fh.keys()}  # noqa: SIM118 (safe_open has no iterator)
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as exc:
        if "mmap" not in str(exc):
            raise
        return torch.load(path, map_location="cpu", weights_only=True)  # legacy format


def check_checkpoint(encoder_id: str, path: str, flag: str) -> None:
    """Fail with :class:`CheckpointError` when ``path`` is not a loadable state dict.

    Run before any work is sent out, so a wrong file is one clear error rather
    than a failure of every task.
    """
    try:
        state = _load_state(str(path))
    except Exception as exc:  # torch/pickle/safetensors raise many types for bad files
        raise CheckpointError(checkpoint_unreadable(encoder_id, str(path), flag, exc)) from None
    if not isinstance(state, Mapping) or not state:
        problem = ValueError(f"it holds a {type(state).__name__}, not a non-empty state dict")
        raise CheckpointError(checkpoint_unreadable(encoder_id, str(path), flag, problem))
