"""Errors of the embed stage."""

from __future__ import annotations

from blindpairs.errors import BlindpairsError, ConfigError


class WeightsUnavailableError(BlindpairsError, RuntimeError):
    """An encoder's pretrained weights are not in any cache and cannot be downloaded."""


def weights_unavailable(encoder_id: str, source: str, reason: str, flag: str) -> str:
    """The message of :class:`WeightsUnavailableError`: what failed and how to fix it."""
    return (
        f"cannot load weights of encoder {encoder_id!r} from {source}: {reason}. "
        "To supply them: (1) on a machine with internet, pre-download them into the "
        'Hugging Face cache (e.g. `python -c "from embeddings.registry import create_encoder; '
        f"create_encoder('{encoder_id}')\"`) and copy that cache here, pointing HF_HOME at it; "
        f"or (2) pass a local checkpoint file with {flag} PATH. For a smoke run without "
        "weights, `--encoders tiny` uses random-weight encoders of the real architectures"
    )


class CheckpointError(ConfigError):
    """A local checkpoint file given for an encoder cannot be loaded as its weights."""


class EncoderLoadError(BlindpairsError, RuntimeError):
    """An encoder could not be created on a worker (the message names it and its weights)."""


def checkpoint_unreadable(encoder_id: str, path: str, flag: str, exc: BaseException) -> str:
    """The message of :class:`CheckpointError`: encoder, file, cause and what to do."""
    first = str(exc).splitlines()[0].split(". ")[0].strip() if str(exc) else ""
    cause = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return (
        f"{flag} {path}: cannot load it as the weights of encoder {encoder_id!r} ({cause}); "
        "pass a PyTorch (.pt/.bin) or .safetensors state-dict file of that model"
    )
