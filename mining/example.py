"""Built-in example scenes: small, deterministic, georeferenced, of varied types.

They exist so the demo and the tests have inputs on a fresh machine. The
content is procedural (seeded value noise classified into water, forest,
fields, town and bare ground, with roads and buildings), not real imagery.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Class colours (R, G, B) in 8-bit reflectance-like units, and the NIR brightness.
_CLASSES = {
    "water": ((30, 60, 90), 10),
    "forest": ((40, 80, 40), 160),
    "field": ((150, 140, 80), 120),
    "town": ((140, 130, 125), 70),
    "bare": ((190, 170, 140), 110),
}


def value_noise(shape: tuple[int, int], cell: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth noise in [0, 1]: a coarse random grid, bilinearly upsampled."""
    h, w = shape
    gh, gw = h // cell + 2, w // cell + 2
    grid = rng.random((gh, gw))
    y = np.arange(h) / cell
    x = np.arange(w) / cell
    y0, x0 = y.astype(int), x.astype(int)
    fy, fx = (y - y0)[:, None], (x - x0)[None, :]
    g = grid
    top = g[y0][:, x0] * (1 - fx) + g[y0][:, x0 + 1] * fx
    bot = g[y0 + 1][:, x0] * (1 - fx) + g[y0 + 1][:, x0 + 1] * fx
    return top * (1 - fy) + bot * fy


def landscape(shape: tuple[int, int], seed: int, change: float = 0.0) -> np.ndarray:
    """A (4, h, w) float32 R, G, B, NIR scene in 0..255 units.

    ``change`` > 0 perturbs the land cover (the same place at another date).
    """
    rng = np.random.default_rng(seed)
    h, w = shape
    base = 0.6 * value_noise(shape, 160, rng) + 0.4 * value_noise(shape, 40, rng)
    if change:
        base = base + change * (value_noise(shape, 60, np.random.default_rng(seed + 1000)) - 0.5)
    cuts = np.quantile(base, [0.15, 0.4, 0.7, 0.85])
    cls = np.digitize(base, cuts)  # 0 water .. 4 bare
    names = ["water", "forest", "field", "town", "bare"]
    img = np.zeros((4, h, w), dtype=np.float32)
    for i, name in enumerate(names):
        (r, g, b), nir = _CLASSES[name]
        m = cls == i
        img[0][m], img[1][m], img[2][m], img[3][m] = r, g, b, nir
    texture = value_noise(shape, 4, rng) - 0.5
    img += 40 * texture[None]
    yy, xx = np.mgrid[0:h, 0:w]
    stripes = ((xx + yy // 3) // 6) % 2 == 0
    img[:3, (cls == 2) & stripes] *= 0.85
    town = cls == 3
    blocks = ((xx // 24) % 2 == 0) & ((yy // 18) % 2 == 0) & town
    img[:3, blocks] = np.array([200, 90, 70], dtype=np.float32)[:, None]
    for k in range(3):
        img[:3, :, (w // 4) * (k + 1) - 2 : (w // 4) * (k + 1) + 2] = 60
        img[:3, (h // 3) * (k % 2 + 1) - 2 : (h // 3) * (k % 2 + 1) + 2, :] = 60
    return np.clip(img, 1, 255)


@dataclass(frozen=True)
class ExampleScene:
    name: str
    crs: str
    origin: tuple[float, float]  # (x, y) of the upper-left corner
    pixel: float
    shape: tuple[int, int]
    seed: int
    writer: Callable[[np.ndarray], tuple[np.ndarray, dict]]
    change: float = 0.0


def _rgb_uint8_nodata_frame(img: np.ndarray) -> tuple[np.ndarray, dict]:
    data = img[:3].astype(np.uint8)
    h, w = data.shape[1:]
    yy, xx = np.mgrid[0:h, 0:w]
    outside = (xx + yy * 0.35 < w * 0.12) | (xx - yy * 0.2 > w * 0.93)  # a slanted nodata frame
    data[:, outside] = 0
    return data, {"nodata": 0, "colorinterp": ("red", "green", "blue")}


def _four_band_uint16(img: np.ndarray) -> tuple[np.ndarray, dict]:
    return (img * 40).astype(np.uint16), {"colorinterp": ("red", "green", "blue", "undefined")}


def _grey_int16(img: np.ndarray) -> tuple[np.ndarray, dict]:
    grey = (0.3 * img[0] + 0.6 * img[1] + 0.1 * img[2]) * 8 - 500
    return grey.astype(np.int16)[None], {"colorinterp": ("gray",)}


def _rgb_float32_nan(img: np.ndarray) -> tuple[np.ndarray, dict]:
    data = img[:3] / 255.0
    data[:, :60, :200] = np.nan
    return data.astype(np.float32), {
        "nodata": float("nan"),
        "colorinterp": ("red", "green", "blue"),
    }


EXAMPLES = (
    ExampleScene(
        "coast_utm33_rgb_uint8",
        "EPSG:32633",
        (500_000, 5_300_000),
        10.0,
        (1024, 1536),
        1,
        _rgb_uint8_nodata_frame,
    ),
    ExampleScene(
        "farms_utm18_rgbn_uint16_2019",
        "EPSG:32618",
        (300_000, 4_500_000),
        5.0,
        (1280, 1280),
        2,
        _four_band_uint16,
    ),
    ExampleScene(
        "farms_utm18_rgbn_uint16_2024",
        "EPSG:32618",
        (300_000, 4_500_000),
        5.0,
        (1280, 1280),
        2,
        _four_band_uint16,
        0.35,
    ),
    ExampleScene(
        "town_laea_grey_int16",
        "EPSG:3035",
        (4_300_000, 3_200_000),
        2.0,
        (1024, 1024),
        3,
        _grey_int16,
    ),
    ExampleScene(
        "delta_wgs84_rgb_float32",
        "EPSG:4326",
        (31.0, 31.5),
        0.0001,
        (1024, 1024),
        4,
        _rgb_float32_nan,
    ),
)


MANIFEST = ".example-scenes.json"


def _generator_key() -> str:
    """What the scenes' bytes depend on: this module's code and the numpy/rasterio versions."""
    from importlib import metadata

    digest = hashlib.sha256(Path(__file__).read_bytes())
    for dist in ("numpy", "rasterio"):
        digest.update(f"{dist}={metadata.version(dist)}".encode())
    return digest.hexdigest()


def _stats(paths: list[Path]) -> dict[str, list[int]]:
    return {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in paths}


def _up_to_date(folder: Path, paths: list[Path]) -> bool:
    """Whether ``folder`` holds exactly what the last run wrote (no need to generate again)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return manifest == {"key": _generator_key(), "files": _stats(paths)}
    except (OSError, ValueError):
        return False


def write_example_scenes(folder: str | Path) -> list[Path]:
    """Write the example scenes into ``folder`` (idempotent: same bytes each time).

    A manifest of the files' sizes and mtimes (and of the generator's code)
    lets a re-run return at once instead of generating every scene again.
    """
    folder = Path(folder)
    expected = [folder / f"{ex.name}.tif" for ex in EXAMPLES]
    if _up_to_date(folder, expected):
        return expected
    paths = _write(folder)
    from blindpairs import atomic

    atomic.write_json(folder / MANIFEST, {"key": _generator_key(), "files": _stats(paths)})
    return paths


def _write(folder: Path) -> list[Path]:
    from rasterio.enums import ColorInterp
    from rasterio.io import MemoryFile
    from rasterio.transform import from_origin

    from blindpairs import atomic

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ex in EXAMPLES:
        data, extra = ex.writer(landscape(ex.shape, ex.seed, ex.change))
        path = folder / f"{ex.name}.tif"
        profile = {
            "driver": "GTiff",
            "width": ex.shape[1],
            "height": ex.shape[0],
            "count": data.shape[0],
            "dtype": data.dtype.name,
            "crs": ex.crs,
            "transform": from_origin(ex.origin[0], ex.origin[1], ex.pixel, ex.pixel),
            "tiled": True,
            "blockxsize": 256,
            "blockysize": 256,
            "compress": "deflate",
        }
        if "nodata" in extra:
            profile["nodata"] = extra["nodata"]
        with MemoryFile() as mem:
            with mem.open(**profile) as dst:
                dst.write(data)
                dst.colorinterp = [ColorInterp[c] for c in extra["colorinterp"]]
            blob = mem.read()
        # Leave an identical file alone so its mtime (and the tile stage's skip) holds.
        if not path.exists() or path.read_bytes() != blob:
            atomic.write_bytes(path, blob)
        paths.append(path)
    return paths
