"""An unreachable Hub means: look in the local cache only, and fail at once."""

from __future__ import annotations

import pytest
from huggingface_hub import constants

from embeddings import weights
from embeddings.errors import WeightsUnavailableError


def test_unreachable_hub_looks_in_the_cache_only_and_says_how_to_supply(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(weights, "hub_reachable", lambda: False)
    seen = []

    def download() -> str:
        seen.append(constants.HF_HUB_OFFLINE)
        raise FileNotFoundError("not in the local cache")

    with pytest.raises(WeightsUnavailableError, match="--clip-checkpoint"):
        weights.fetch(
            "clip:ViT-B-32/laion2b_s34b_b79k", "open_clip tag", "--clip-checkpoint", download
        )
    assert seen == [True]  # the download ran in cache-only mode
    assert constants.HF_HUB_OFFLINE is False  # and the setting was put back


def test_reachable_hub_downloads_normally(monkeypatch, tmp_path):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(weights, "hub_reachable", lambda: True)
    f = tmp_path / "w.bin"
    f.write_bytes(b"x")
    seen = []

    def download() -> str:
        seen.append(constants.HF_HUB_OFFLINE)
        return str(f)

    assert weights.fetch("e", "src", "--flag", download) == str(f)
    assert seen == [False]
