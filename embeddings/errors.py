"""Errors of the embed stage."""

from __future__ import annotations

from blindpairs.errors import BlindpairsError


class WeightsUnavailableError(BlindpairsError, RuntimeError):
    """An encoder's pretrained weights are not in any cache and cannot be downloaded."""


def weights_unavailable(encoder_id: str, source: str, reason: str, flag: str) -> str:
    """The message of :class:`WeightsUnavailableError`: what failed and how to fix it."""
    return (
        f"cannot load weights of encoder {encoder_id!r} from {source}: {reason}. "
        "To supply them: (1) on a machine with internet, pre-download them into the "
        'Hugging Face cache (e.g. `python -c "from embeddings.registry import create_encoder; '
        f"create_encoder('{encoder_id}')\"`) and copy that cache here, pointing HF_HOME at it; "
        f"or (2) pass a local checkpoint file with {flag} PATH"
    )
