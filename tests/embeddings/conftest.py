"""Fixtures of the embed stage's tests: tile parts written with the tiles schema."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from PIL import Image

from blindpairs.workspace import Workspace
from tests.embeddings.pngs import png
from tests.tiles import Tile, write_tile_part


def tile_id(scene: str, i: int) -> str:
    return f"{scene}-t{i:04d}"


def write_scene(
    ws: Workspace, scene: str, n: int, *, seed: int = 0, bad: Sequence[int] = ()
) -> list[str]:
    """Write ``tiles/part-<scene>.parquet`` of ``n`` tiles; indexes in ``bad`` are corrupt."""
    ids = [tile_id(scene, i) for i in range(n)]
    images = [png(seed * 1000 + i) for i in range(n)]
    for i in bad:
        images[i] = images[i][:60]  # a truncated PNG
    d = 1e-3
    tiles = [
        Tile(tid, (-88.0 + i * d, 43.0, -88.0 + (i + 1) * d, 43.0 + d), images[i], pixels=48)
        for i, tid in enumerate(ids)
    ]
    write_tile_part(ws, scene, tiles)
    return ids


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def scene_writer(workspace: Workspace) -> Callable[..., list[str]]:
    def write(scene: str, n: int, **kwargs: object) -> list[str]:
        return write_scene(workspace, scene, n, **kwargs)

    return write


@pytest.fixture
def make_images() -> Callable[..., list[Image.Image]]:
    """``make_images(n, offset=0)``: seeded PIL images like the tiles'."""

    def make(n: int, offset: int = 0) -> list[Image.Image]:
        return [Image.open(io.BytesIO(png(offset + i))) for i in range(n)]

    return make
