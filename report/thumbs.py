"""Image thumbnails written as PNG files under ``assets/``, one per distinct image."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

ASSETS = "assets"


def thumbnail(png: bytes, size: int) -> bytes:
    """``png`` shrunk to at most ``size`` pixels on its longest side, as PNG bytes.

    Raises ``ValueError`` when the bytes are not an image PIL can read.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(png)) as img:
            img = img.convert("RGB")
            img.thumbnail((size, size), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            img.save(out, format="PNG", optimize=False)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not a readable image ({exc})") from None
    return out.getvalue()


@dataclass
class Assets:
    """Thumbnails of one report build in ``folder`` (the build's ``assets/``)."""

    folder: Path
    size: int
    problems: list[tuple[str, str]] = field(default_factory=list)  # (what, reason)
    _done: dict[str, str | None] = field(default_factory=dict)

    def add(self, what: str, png: bytes | None) -> str | None:
        """The page-relative path of ``what``'s thumbnail, or None (recorded) when it fails."""
        if what in self._done:
            return self._done[what]
        path: str | None = None
        if png is None:
            self.problems.append((what, "image not found in the workspace"))
        else:
            try:
                data = thumbnail(png, self.size)
                name = f"{hashlib.sha1(what.encode()).hexdigest()[:16]}.png"
                self.folder.mkdir(parents=True, exist_ok=True)
                (self.folder / name).write_bytes(data)
                path = f"{ASSETS}/{name}"
            except ValueError as exc:
                self.problems.append((what, str(exc)))
        self._done[what] = path
        return path
