"""Fixtures of the tile stage's tests (rasters written by tests/mining/rasters.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mining.rasters import textured, write_raster


@pytest.fixture
def scenes_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "scenes"
    folder.mkdir()
    return folder


@pytest.fixture
def raster(scenes_dir: Path):
    """Factory: ``raster(name, bands, dtype, height, width, seed=..., **write_raster kwargs)``."""

    def make(
        name: str,
        bands: int = 3,
        dtype: str = "uint8",
        height: int = 256,
        width: int = 256,
        seed: int = 0,
        **kw,
    ) -> Path:
        data = textured((bands, height, width), dtype, seed)
        return write_raster(scenes_dir / name, data, **kw)

    return make
