"""A published pair's images: read by the trusted tile ids, never by the export's paths.

The Label Studio export file is not trusted: its image URLs are only
cross-checked against the tile ids that ``tasks.json`` holds for the pair. The
bytes come from the exported PNG named by the tile id, or else from the tiles
parquet.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

from annotation_export.inputs import read_tile_rows
from annotation_export.tasks import image_file, url_to_relative_path
from blindpairs.workspace import Workspace

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_url(ref: object, ws: Workspace, tile_id: str) -> None:
    """Raise ValueError unless ``ref`` names the exported image of ``tile_id``.

    Only the path below the workspace is compared, so tasks exported under an
    earlier ``--document-root`` still match.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise ValueError("no image reference")
    rel = PurePosixPath(url_to_relative_path(ref.strip()))
    want = PurePosixPath(image_file(ws, tile_id).relative_to(ws.root).as_posix())
    if ".." in rel.parts or rel.parts[-len(want.parts) :] != want.parts:
        raise ValueError(f"image {ref!r} is not the exported image of tile {tile_id!r}")


def tile_images(ws: Workspace, tile_ids: Iterable[str]) -> dict[str, bytes]:
    """PNG bytes per tile id (the exported image, else the tiles parquet); absent: not found."""
    found: dict[str, bytes] = {}
    missing: set[str] = set()
    for tile_id in set(tile_ids):
        try:
            data = image_file(ws, tile_id).read_bytes()
        except OSError:
            data = b""
        if data.startswith(PNG_MAGIC):
            found[tile_id] = data
        else:
            missing.add(tile_id)
    for tile_id, row in read_tile_rows(ws, missing, with_image=True).items():
        data = row.get("image") or b""
        if data.startswith(PNG_MAGIC):
            found[tile_id] = data
    return found
