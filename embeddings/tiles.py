"""Reading the tile stage's output: tile ids per part, image bytes, PNG decoding."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from blindpairs.schemas import read_tiles

ID = "tile_id"
IMAGE = "image"


def tile_ids(part: Path) -> list[str]:
    """The tile ids of one tiles part (reads only that column)."""
    return [str(t) for t in read_tiles([part], columns=[ID]).column(ID).to_pylist()]


def tile_images(part: Path, wanted: set[str]) -> dict[str, bytes]:
    """Image bytes of the ``wanted`` tiles of one part."""
    table = read_tiles([part], columns=[ID, IMAGE])
    ids = table.column(ID).to_pylist()
    images = table.column(IMAGE)
    return {tid: images[i].as_py() for i, tid in enumerate(ids) if tid in wanted}


def decode(data: bytes | None) -> Image.Image:
    """Decode a tile image fully (truncated or corrupt data raises here, not later)."""
    if not data:
        raise ValueError("empty image")
    image = Image.open(io.BytesIO(data))
    image.load()
    if image.width < 1 or image.height < 1:
        raise ValueError(f"image has size {image.width}x{image.height}")
    return image.convert("RGB")
