"""Turn one row of any benchmark format into a :class:`BenchItem`.

Benchmarks published by others name their columns differently (MMVP's
``Questions.csv``, VLMEvalKit's TSV, Hugging Face parquet exports, our own
``benchmark.parquet``); the alias table below maps them all to our names.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from evaluation.items import CHOICES, BenchItem

ALIASES: dict[str, tuple[str, ...]] = {
    "index": ("index", "Index", "idx", "question_id", "id"),
    "question": ("question", "Question"),
    "option_a": ("option_a", "A", "a", "choice_a", "Option A"),
    "option_b": ("option_b", "B", "b", "choice_b", "Option B"),
    "options": ("options", "Options"),
    "answer": ("answer", "Correct Answer", "correct_answer", "label", "Answer"),
    "category": ("category", "Category", "type", "pattern", "visual_pattern"),
    "image": ("image", "Image", "img", "image_bytes"),
    "image_path": ("image_path", "path", "file_name", "filename"),
    "pair_id": ("pair_id",),
    "tile_id": ("tile_id",),
}

_OPTIONS = re.compile(r"^\s*\(a\)\s*(?P<a>.*?)\s*\(b\)\s*(?P<b>.*?)\s*$", re.IGNORECASE | re.DOTALL)
_ANSWER = re.compile(r"^\s*\(?\s*([ab])\s*[).:]?\s*$", re.IGNORECASE)

# Resolves an image reference (a path string) to bytes; raises ValueError.
ImageResolver = Callable[[str], bytes]


def pick(row: Mapping[str, Any], name: str) -> Any:
    """The value of the first alias of ``name`` present (and not empty) in ``row``."""
    for key in ALIASES[name]:
        value = row.get(key)
        missing = value is None or (isinstance(value, float) and value != value)
        if not missing and not (isinstance(value, str) and not value.strip()):
            return value
    return None


def parse_options(text: str) -> tuple[str, str]:
    """Split MMVP's ``"(a) Open (b) Closed"`` into its two options."""
    m = _OPTIONS.match(str(text))
    if not m:
        raise ValueError(f"options {text!r} are not of the form '(a) ... (b) ...'")
    return m.group("a"), m.group("b")


def parse_answer(value: Any, option_a: str, option_b: str) -> str:
    """Normalise ``"(a)"``, ``"A"``, ``"b."`` or an option's text to ``'a'``/``'b'``."""
    text = str(value).strip()
    m = _ANSWER.match(text)
    if m:
        return m.group(1).lower()
    low = text.lower()
    if low == option_a.strip().lower() and low != option_b.strip().lower():
        return "a"
    if low == option_b.strip().lower() and low != option_a.strip().lower():
        return "b"
    raise ValueError(f"answer {text!r} is not one of (a)/(b)")


def sniff_mime(data: bytes) -> str | None:
    """The MIME type of an encoded image from its magic bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def check_image(data: bytes) -> bytes:
    """Return ``data`` when it decodes as an image; raise ValueError otherwise."""
    if sniff_mime(data) is None:
        raise ValueError("image bytes are not PNG, JPEG, WebP or GIF")
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.verify()
    except Exception as exc:  # PIL raises many types for corrupt data
        raise ValueError(f"image does not decode: {exc}") from None
    return data


def image_bytes(value: Any, resolve: ImageResolver) -> bytes:
    """Image bytes from raw bytes, an HF struct ``{bytes, path}``, base64 text or a path."""
    if isinstance(value, Mapping):
        if value.get("bytes"):
            return bytes(value["bytes"])
        if value.get("path"):
            return resolve(str(value["path"]))
        raise ValueError("image struct has neither bytes nor path")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return _image_from_text(value.strip(), resolve)
    raise ValueError(f"unsupported image value of type {type(value).__name__}")


def _image_from_text(text: str, resolve: ImageResolver) -> bytes:
    """A path (short text that names a file) or base64-encoded image bytes."""
    problem = "image text is neither a readable path nor base64 image data"
    if len(text) < 1024:
        try:
            return resolve(text)
        except ValueError as exc:
            problem = str(exc)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(problem) from None
    if sniff_mime(data) is None:
        raise ValueError(problem)
    return data


def to_item(row: Mapping[str, Any], resolve: ImageResolver, position: int) -> BenchItem:
    """Build an item from ``row``; raise ValueError naming what is wrong."""
    raw_index = pick(row, "index")
    try:
        index = int(raw_index) if raw_index is not None else position
    except (TypeError, ValueError):
        raise ValueError(f"index {raw_index!r} is not an integer") from None
    question = pick(row, "question")
    if question is None:
        raise ValueError("no question")
    a, b = pick(row, "option_a"), pick(row, "option_b")
    if a is None or b is None:
        options = pick(row, "options")
        if options is None:
            raise ValueError("no options (expected option_a/option_b, A/B or Options)")
        a, b = parse_options(options)
    a, b = str(a).strip(), str(b).strip()
    raw_answer = pick(row, "answer")
    if raw_answer is None:
        raise ValueError("no answer")
    answer = parse_answer(raw_answer, a, b)
    if answer not in CHOICES:
        raise ValueError(f"answer {raw_answer!r} is not a or b")
    img = pick(row, "image")
    if img is None:
        ref = pick(row, "image_path")
        if ref is None:
            raise ValueError("no image")
        data = resolve(str(ref))
    else:
        data = image_bytes(img, resolve)
    return BenchItem(
        index=index,
        image=check_image(data),
        question=str(question).strip(),
        option_a=a,
        option_b=b,
        answer=answer,
        category=str(pick(row, "category") or ""),
        pair_id=str(pick(row, "pair_id") or ""),
        tile_id=str(pick(row, "tile_id") or ""),
    )


def path_resolver(base: Path) -> ImageResolver:
    """Resolve image paths relative to ``base``."""

    def resolve(ref: str) -> bytes:
        path = Path(ref)
        if not path.is_absolute():
            path = base / path
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read image {path}: {exc.strerror}") from None

    return resolve
