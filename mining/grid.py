"""The tile grid over a scene, with a documented edge rule.

All offsets and sizes are in source pixels. ``win`` is the source window side of
one tile (the output side times the resampling scale).

Edge rules, along each axis of length ``n``:

- ``shift`` (default): tiles step by ``step`` from 0; if pixels remain past the
  last full tile, one more tile is placed flush with the far edge (it overlaps
  its neighbour). No pixel is lost and every tile is full size.
- ``pad``: the extra tile starts on the regular grid and runs past the edge; the
  pixels outside the scene are invalid (they lower ``valid_fraction``).
- ``drop``: only full tiles on the regular grid; the remaining edge strip is not
  tiled and its width is reported.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GridAxis:
    offsets: tuple[int, ...]
    lost: int  # source pixels not covered (drop rule only)


def axis_offsets(n: int, win: int, step: int, edge: str) -> GridAxis:
    """Tile offsets along one axis of ``n`` pixels. Raises ``ValueError`` if ``n < win``
    (except with ``pad``, which pads the single tile)."""
    if n < win and edge != "pad":
        raise ValueError(f"scene is smaller than one tile ({n} < {win} pixels)")
    offsets = list(range(0, max(n - win, 0) + 1, step))
    end = offsets[-1] + win
    lost = 0
    if end < n:
        if edge == "shift":
            offsets.append(n - win)
        elif edge == "pad":
            offsets.append(offsets[-1] + step)
        else:
            lost = n - end
    return GridAxis(tuple(offsets), lost)


def tile_windows(
    width: int, height: int, win: int, step: int, edge: str
) -> tuple[list[tuple[int, int]], int]:
    """Row-major (row_off, col_off) of every tile, and the pixels lost at the edges."""
    cols = axis_offsets(width, win, step, edge)
    rows = axis_offsets(height, win, step, edge)
    windows = [(r, c) for r in rows.offsets for c in cols.offsets]
    lost = cols.lost * height + rows.lost * width - cols.lost * rows.lost
    return windows, lost
