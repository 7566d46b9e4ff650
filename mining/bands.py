"""Choosing three source bands for RGB: explicit, by preset, or by colour interpretation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Preset:
    """Band numbers (1-based) of R, G, B in a known product's band order."""

    rgb: tuple[int, int, int]
    min_bands: int
    description: str


PRESETS: dict[str, Preset] = {
    "naip": Preset((1, 2, 3), 3, "NAIP R,G,B,NIR (its 4th band is declared alpha but is NIR)"),
    "sentinel2-l2a": Preset(
        (4, 3, 2), 12, "Sentinel-2 L2A/L1C stacked B1..B12 (B4,B3,B2); 12 or 13 bands"
    ),
    "worldview-8band": Preset(
        (5, 3, 2), 8, "WorldView-2/3 MS: coastal,blue,green,yellow,red,red-edge,NIR1,NIR2"
    ),
    "worldview-4band": Preset((3, 2, 1), 4, "WorldView/SpaceNet 4-band MS in B,G,R,NIR order"),
    "spacenet-ms": Preset((3, 2, 1), 4, "SpaceNet multispectral chips (B,G,R,NIR)"),
}


@dataclass(frozen=True)
class BandChoice:
    """Which bands make R, G, B, and which band (if any) is a trusted alpha mask."""

    rgb: tuple[int, int, int]
    alpha: int | None
    how: str
    notes: tuple[str, ...] = ()


def looks_like_alpha(values: np.ndarray, dtype_max: float) -> bool:
    """True when a band holds only 0 and the dtype maximum, as a real alpha band does."""
    uniq = np.unique(values)
    return bool(uniq.size <= 2 and set(uniq.tolist()) <= {0, dtype_max})


def choose_bands(
    colorinterp: list[str],
    requested: tuple[int, ...],
    preset: str | None,
    alpha_values: dict[int, np.ndarray],
    dtype_max: float,
) -> BandChoice:
    """Pick RGB bands of a scene.

    ``colorinterp`` holds the lower-case colour interpretation names of the bands,
    ``alpha_values`` a decimated sample of each band declared alpha (to test whether
    it is a real mask). Raises ``ValueError`` with the reason when no sane choice
    exists (the caller attaches the scene path).
    """
    count = len(colorinterp)
    notes: list[str] = []
    declared_alpha = [i + 1 for i, ci in enumerate(colorinterp) if ci == "alpha"]
    alpha = None
    for b in declared_alpha:
        if looks_like_alpha(alpha_values[b], dtype_max):
            alpha = b
        else:
            notes.append(f"band {b} is declared alpha but holds data (e.g. NIR); not used as mask")

    if requested:
        rgb = requested * 3 if len(requested) == 1 else requested
        bad = [b for b in rgb if b > count]
        if bad:
            raise ValueError(
                f"--bands {requested} asks for band {bad[0]} but the scene has {count}"
            )
        return BandChoice(tuple(rgb), alpha, "bands option", tuple(notes))
    if preset:
        p = PRESETS[preset]
        if count < p.min_bands:
            raise ValueError(
                f"preset {preset!r} needs >= {p.min_bands} bands, the scene has {count}"
            )
        return BandChoice(p.rgb, alpha, f"preset {preset}", tuple(notes))

    by_name = {ci: i + 1 for i, ci in reversed(list(enumerate(colorinterp)))}
    if all(c in by_name for c in ("red", "green", "blue")):
        rgb = (by_name["red"], by_name["green"], by_name["blue"])
        return BandChoice(rgb, alpha, "colour interpretation", tuple(notes))
    data_bands = [i + 1 for i in range(count) if i + 1 != alpha]
    if len(data_bands) == 1 or (count == 2 and alpha is not None):
        b = data_bands[0]
        return BandChoice((b, b, b), alpha, "single band as grey", tuple(notes))
    if len(data_bands) in (3, 4):
        notes.append(
            "no RGB colour interpretation; assuming bands 1,2,3 are R,G,B "
            "(pass --bands or --preset if not)"
        )
        return BandChoice((1, 2, 3), alpha, "assumed 1,2,3", tuple(notes))
    raise ValueError(
        f"cannot tell which of its {count} bands are red, green, blue; pass --bands R,G,B "
        f"or --preset ({', '.join(sorted(PRESETS))})"
    )
