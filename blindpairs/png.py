"""PNG encoding of tiles: a small writer on numpy and zlib, lossless, releasing the GIL.

The tile stage's cost was PNG encoding (Pillow's adaptive row filters with
deflate: most of the time per 512 px tile). Here a tile is written as an
8-bit RGB PNG with one filter for every row and zlib at ``level``:

* ``level`` 0: deflate *stored* blocks, no filter: no compression work at all
  (the bytes are about the raw size; the tiles part is compressed with zstd
  by Parquet, so the file on disk stays well below raw). The default. Written
  by :func:`encode_stored_into`, in place: blocks of whole scanlines, each row
  interleaved straight into its block, no zlib call.
* ``level`` 1-9: the PNG *Sub* filter (left neighbour difference, vectorised)
  and zlib at that level: about as small as Pillow at the same level, in about
  half the time.

Measured options are in the README's performance section. numpy's copies and
zlib's deflate release the GIL, so Dask's threads encode in parallel; the
checksums are zlib-ng's SIMD ones (a dependency; zlib's when it is missing).

Tiles stored at level 0 are compressed when they leave the workspace
(:func:`compact`: Label Studio's images, the published benchmark), so the
files people download stay small while tiling stays fast.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np

try:  # the same checksums as zlib's, with SIMD: 0.01 ms a 512 px tile each, not 0.2
    from zlib_ng.zlib_ng import adler32, crc32
except ImportError:  # a declared dependency; zlib's are a slower stand-in
    from zlib import adler32, crc32

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FILTER_NONE = 0
_FILTER_SUB = 1


def _chunk(tag: bytes, data: bytes) -> list[bytes]:
    crc = crc32(data, crc32(tag)) & 0xFFFFFFFF
    return [struct.pack(">I", len(data)), tag, data, struct.pack(">I", crc)]


def _check(rgb: np.ndarray, level: int) -> None:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[0] != 3:
        raise ValueError(f"expected a uint8 (3, h, w) array, got {rgb.dtype} {rgb.shape}")
    if not 0 <= level <= 9:
        raise ValueError(f"PNG compression level must be 0..9, got {level}")


def encode_png(rgb: np.ndarray, level: int) -> bytes:
    """Encode a uint8 (3, h, w) tile as an RGB PNG (lossless) with zlib ``level`` 0-9."""
    _check(rgb, level)
    _, h, w = rgb.shape
    size = stored_size(h, w)
    if level == 0 and size is not None:
        out = bytearray(size)
        encode_stored_into(rgb, np.frombuffer(out, dtype=np.uint8))
        return bytes(out)
    raw = np.empty((h, 3 * w + 1), dtype=np.uint8)
    pixels = raw[:, 1:]
    for band in range(3):  # to row order (RGBRGB...), one band at a time: a fast strided copy
        pixels[:, band::3] = rgb[band]
    if level == 0:
        raw[:, 0] = _FILTER_NONE
    else:
        raw[:, 0] = _FILTER_SUB
        # Sub: each byte minus the same channel of the pixel to its left (mod 256)
        np.subtract(pixels[:, 3:], pixels[:, :-3].copy(), out=pixels[:, 3:])
    parts = [
        SIGNATURE,
        *_chunk(b"IHDR", _ihdr(h, w)),
        *_chunk(b"IDAT", zlib.compress(raw, level)),
        *_chunk(b"IEND", b""),
    ]
    return b"".join(parts)


def _ihdr(h: int, w: int) -> bytes:
    return struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace


# A level-0 PNG written in place (:func:`encode_stored_into`): deflate stored blocks of
# whole scanlines, so each row is written once, straight into its final place.
_STORED_MAX = 65535  # bytes of one deflate stored block
_ZLIB_HEADER = b"\x78\x01"  # deflate, 32K window, no dictionary, "fastest" (as level 0)
_IEND = b"".join(_chunk(b"IEND", b""))
_IDAT_START = len(SIGNATURE) + 12 + 13  # the IDAT chunk follows the signature and IHDR


def stored_size(h: int, w: int) -> int | None:
    """Bytes of the level-0 PNG of an (h, w) RGB tile written by :func:`encode_stored_into`;
    ``None`` when one scanline exceeds a stored block (``w`` over 21844 px)."""
    line = 3 * w + 1
    per_block = _STORED_MAX // line
    if not per_block:
        return None
    blocks = -(-h // per_block)
    return _IDAT_START + 8 + 2 + 5 * blocks + h * line + 4 + 4 + len(_IEND)


def encode_stored_into(rgb: np.ndarray, out: np.ndarray) -> None:
    """Write the level-0 PNG of the uint8 (3, h, w) ``rgb`` into ``out`` (uint8, exactly
    :func:`stored_size` bytes): no filter, deflate stored blocks of whole scanlines.

    The rows are interleaved (RGBRGB...) straight into their blocks, so there is no
    intermediate image, no zlib call and no copy of the result."""
    _check(rgb, 0)
    _, h, w = rgb.shape
    size = stored_size(h, w)
    if size is None or out.dtype != np.uint8 or out.shape != (size,):
        raise ValueError(f"expected a uint8 buffer of {size} bytes, got {out.dtype} {out.shape}")
    line = 3 * w + 1
    per_block = _STORED_MAX // line
    idat_len = size - _IDAT_START - 12 - len(_IEND)
    head = SIGNATURE + b"".join(_chunk(b"IHDR", _ihdr(h, w)))
    head += struct.pack(">I", idat_len) + b"IDAT" + _ZLIB_HEADER
    out[: len(head)] = np.frombuffer(head, dtype=np.uint8)
    at = len(head)
    adler = 1
    for r0 in range(0, h, per_block):
        rows = min(per_block, h - r0)
        n = rows * line
        final = r0 + rows == h
        out[at : at + 5] = np.frombuffer(struct.pack("<BHH", final, n, n ^ 0xFFFF), np.uint8)
        lines = out[at + 5 : at + 5 + n].reshape(rows, line)
        lines[:, 0] = _FILTER_NONE
        for band in range(3):
            lines[:, 1 + band :: 3] = rgb[band, r0 : r0 + rows]
        adler = adler32(lines, adler)
        at += 5 + n
    out[at : at + 4] = np.frombuffer(struct.pack(">I", adler), np.uint8)
    at += 4
    crc = crc32(out[_IDAT_START + 4 : at]) & 0xFFFFFFFF
    out[at : at + 4] = np.frombuffer(struct.pack(">I", crc), np.uint8)
    out[at + 4 :] = np.frombuffer(_IEND, np.uint8)


EXPORT_LEVEL = 6  # zlib level of images that leave the workspace


def compact(data: bytes, level: int = EXPORT_LEVEL) -> bytes:
    """The same pixels as the PNG ``data``, re-encoded as RGB at zlib ``level``.

    Deterministic (same pixels, same bytes). ValueError when ``data`` does not
    decode; the caller decides what a bad tile means.
    """
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            rgb = np.asarray(im.convert("RGB"))
    except Exception as exc:  # PIL raises many types for corrupt data
        raise ValueError(f"tile image does not decode: {exc}") from None
    return encode_png(np.ascontiguousarray(rgb.transpose(2, 0, 1)), level)
