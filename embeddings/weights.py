"""Where an encoder's weights come from: a pretrained tag (usual caches) or a local file.

The weights tag recorded with every embedding says which: the pretrained tag
(``openai``, ``lvd142m``), ``random-seed<N>`` for the tiny random encoders, or
``file:<name>:sha256-<12 hex>`` for a checkpoint file (its content hash, so the
same file under another path is the same weights).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from blindpairs.errors import ConfigError
from embeddings.errors import (
    CheckpointError,
    WeightsUnavailableError,
    checkpoint_unreadable,
    weights_unavailable,
)

log = logging.getLogger(__name__)

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


@functools.cache
def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face Hub (``HF_ENDPOINT``) answers a TCP connection quickly."""
    from urllib.parse import urlparse

    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname or "", port), timeout=timeout).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def _cache_only_when_offline() -> Iterator[None]:
    """Use only the local cache when the Hub is unreachable: without this,
    huggingface_hub retries each file for about half a minute before failing."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or hub_reachable():
        yield
        return
    log.info("Hugging Face Hub unreachable: looking for weights in the local cache only")
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = False


def fetch(encoder_id: str, source: str, flag: str, download: Callable[[], str]) -> str:
    """Run ``download`` (cache look-up or download) and return the local file path.

    Any failure becomes a :class:`WeightsUnavailableError` naming the encoder
    and saying how to supply the weights.
    """
    try:
        with _cache_only_when_offline():
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
