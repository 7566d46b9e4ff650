"""The image column of a task's tiles: PNGs written in place into one Arrow buffer."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from blindpairs import columns
from blindpairs.png import encode_png, encode_stored_into, stored_size


class PngColumn:
    """The PNGs of up to ``capacity`` tiles of ``size`` px, as an Arrow ``binary`` array.

    At level 0 every PNG has the same length (:func:`~blindpairs.png.stored_size`), so
    each is written straight into its slot of one buffer from Arrow's pool: no bytes
    object per tile, no copy into the table, and pool memory that the next task reuses
    (fresh memory costs page faults). At levels 1-9 the PNGs are bytes, copied once.
    """

    def __init__(self, level: int, capacity: int, size: int) -> None:
        self._level = level
        self._slot = stored_size(size, size) if level == 0 else None
        if self._slot is not None and self._slot * capacity > columns.MAX_BINARY_BYTES:
            self._slot = None  # over one array's 32-bit offsets: bytes (and columns' error)
        self._blobs: list[bytes] = []
        self._count = 0
        if self._slot is not None:
            self._buffer = pa.allocate_buffer(self._slot * capacity)
            self._view = np.frombuffer(self._buffer, dtype=np.uint8)

    def append(self, rgb: np.ndarray) -> None:
        """Encode the uint8 (3, size, size) tile ``rgb`` as the next PNG."""
        if self._slot is None:
            self._blobs.append(encode_png(rgb, self._level))
            return
        start = self._count * self._slot
        encode_stored_into(rgb, self._view[start : start + self._slot])
        self._count += 1

    def array(self) -> pa.Array:
        """The PNGs appended so far, in order."""
        if self._slot is None:
            return columns.array(self._blobs, pa.binary())
        offsets = np.arange(self._count + 1, dtype=np.int32) * np.int32(self._slot)
        data = self._buffer.slice(0, self._count * self._slot)
        return pa.Array.from_buffers(pa.binary(), self._count, [None, pa.py_buffer(offsets), data])
