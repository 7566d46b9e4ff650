"""Reading a task's image safely: only files inside the workspace, only PNG."""

from __future__ import annotations

from pathlib import Path

from annotation_export.inputs import relative_to
from annotation_export.tasks import url_to_relative_path


def read_task_image(ref: object, document_root: Path, workspace: Path) -> bytes:
    """The PNG bytes ``ref`` (a local-files URL or a path) points to.

    Raises ValueError when the path leaves the workspace, is missing or is not a PNG.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise ValueError("no image reference")
    rel = url_to_relative_path(ref.strip())
    path = Path(rel)
    path = path if path.is_absolute() else document_root / rel
    if relative_to(path, workspace) is None:
        raise ValueError(f"image path {rel!r} points outside the workspace; refused")
    try:
        data = path.resolve().read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read image {rel!r}: {exc.strerror}") from None
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"image {rel!r} is not a PNG")
    return data
