"""A UTM zone 60 scene across 180 deg: valid split footprints, and every consumer
(mine's spatial exclusion, export's locations, the report map) treats them as one place."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from rasterio.transform import from_origin

from blindpairs.footprints import format_lonlat, wkb_center
from blindpairs.schemas import read_tiles
from blindpairs.workspace import Workspace
from pairs.mine import run_mine
from pairs.params import MineParams
from pairs.spatial import conflicts, haversine_m, load_footprints
from report.gather import read_tiles as report_tiles
from report.mapplot import footprint_map
from tests.mining.helpers import tile
from tests.mining.rasters import textured, write_raster
from tests.pairs.inputs import CLIP, DINO, unit, write_embeddings, write_tiles

# 51.2 x 25.6 km around 60.2 N; 180 deg runs through it at easting ~667 km
ORIGIN = (640_000.0, 6_680_000.0)


@pytest.fixture(scope="module")
def tiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pa.Table]:
    tmp = tmp_path_factory.mktemp("antimeridian")
    scene = write_raster(
        tmp / "utm60.tif",
        textured((3, 256, 512), "uint8", 1),
        crs="EPSG:32660",
        transform=from_origin(*ORIGIN, 100, 100),
    )
    ws = tmp / "ws"
    summary = tile(ws, [scene])
    assert not summary.failed
    return ws, read_tiles(Workspace(ws).tile_parts())


def _geoms(table: pa.Table) -> np.ndarray:
    return shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))


def test_footprints_across_180_are_valid_multipolygons_of_the_right_size(tiled) -> None:
    _, table = tiled
    geoms = _geoms(table)
    assert shapely.is_valid(geoms).all()
    split = shapely.get_type_id(geoms) == 6
    assert split.any() and (~split).any()
    for g in geoms[split]:
        west, east = sorted(shapely.get_parts(g), key=lambda p: p.bounds[0])
        assert west.bounds[0] == -180.0 and east.bounds[2] == 180.0  # cut exactly at 180
    # 6.4 km tiles: ~0.0066 deg2 each, split or not (165 deg2 before the fix)
    assert shapely.area(geoms) == pytest.approx(shapely.area(geoms[~split][0]), rel=0.05)


def test_export_location_of_a_split_tile_is_at_180(tiled) -> None:
    _, table = tiled
    geoms = _geoms(table)
    wkb = table.column("geometry")[int(np.flatnonzero(shapely.get_type_id(geoms) == 6)[0])]
    lon, lat = wkb_center(wkb.as_py())
    assert abs(abs(lon) - 180.0) < 0.1 and 60.0 < lat < 60.4
    assert format_lonlat((lon, lat)).startswith("60.")  # not a place in England


def test_spatial_exclusion_across_the_antimeridian(tiled) -> None:
    _, table = tiled
    fp, ok = load_footprints(table)
    assert ok.all()
    assert np.allclose(fp.width_m, 6400.0, rtol=0.02)  # local metres, not degrees
    lon = fp.lon
    west = np.flatnonzero((lon > 179.0) & (lon < 179.95))
    east = np.flatnonzero((lon < -179.0) & (lon > -179.95))
    # the nearest tiles on opposite sides of 180 deg, one split tile between them
    d = haversine_m(lon[west][:, None], fp.lat[west][:, None], lon[east], fp.lat[east])
    i, j = np.unravel_index(np.argmin(d), d.shape)
    a, b = np.array([west[i]]), np.array([east[j]])
    assert d[i, j] == pytest.approx(2 * 6400.0, rel=0.02)
    # their footprints lie one tile (6.4 km) apart on the ground
    assert conflicts(fp, a, b, 1.0, 7_000.0, False).all()
    assert not conflicts(fp, a, b, 1.0, 5_800.0, False).any()
    # and a split tile touches both
    split = np.flatnonzero(shapely.get_type_id(_geoms(table)) == 6)
    near = split[np.argmin(haversine_m(lon[split], fp.lat[split], lon[a], fp.lat[a]))]
    assert conflicts(fp, np.array([near, near]), np.r_[a, b], 1.0, None, False).all()
    # the scene's far west and far east tiles: footprints 38.4 km apart on the ground
    far_a = np.array([int(np.argmin(np.where(lon > 0, lon, np.inf)))])
    far_b = np.array([int(np.argmax(np.where(lon < 0, lon, -np.inf)))])
    assert lon[far_a] > 179.0 and lon[far_b] < -179.0
    assert not conflicts(fp, far_a, far_b, 1.0, None, False).any()
    assert conflicts(fp, far_a, far_b, 1.0, 60_000.0, False).all()
    assert not conflicts(fp, far_a, far_b, 1.0, 30_000.0, False).any()


def test_split_tile_is_not_the_same_place_as_a_tile_far_away(tiled) -> None:
    _, table = tiled
    far = shapely.box(-88.0, 43.0, -87.9, 43.1).wkb  # Wisconsin, ~8,000 km away
    both = pa.concat_tables([table, table.slice(0, 1)])
    geoms = both.column("geometry").to_pylist()
    geoms[-1] = far
    both = both.set_column(
        both.schema.get_field_index("geometry"), "geometry", pa.array(geoms, pa.binary())
    )
    fp, ok = load_footprints(both)
    split = np.flatnonzero(shapely.get_type_id(_geoms(table)) == 6)
    a = split
    b = np.full(len(split), len(geoms) - 1)
    assert not conflicts(fp, a, b, 1.0, None, False).any()
    assert not conflicts(fp, a, b, 1.0, 100_000.0, False).any()


def test_report_map_draws_the_scene_in_one_piece(tiled) -> None:
    ws, _ = tiled
    tiles = report_tiles(Workspace(ws))
    drawn = footprint_map(tiles, [], max_tiles=1000)
    assert drawn is not None
    _, lay = drawn
    lon0, lon1 = lay.frame.x_domain
    assert lon1 - lon0 < 2.0  # ~0.9 deg of scene plus padding, not a band around the globe
    rings = [lay.ring(t) for t in lay.drawn]
    assert all(np.ptp(r[:, 0]) < 0.2 for r in rings)
    assert min(r[:, 0].min() for r in rings) > lon0 and max(r[:, 0].max() for r in rings) < lon1


def test_mine_keeps_a_far_pair_and_drops_neighbours_across_180(tiled, tmp_path) -> None:
    src, table = tiled
    ws = Workspace(tmp_path / "ws")
    shutil.copytree(Workspace(src).tiles, ws.tiles)
    write_tiles(ws, "wisconsin", [("far", -88.0, 43.0)], size=0.08)
    fp, _ = load_footprints(table)
    ids = [*table.column("tile_id").to_pylist(), "far"]
    split = np.flatnonzero(shapely.get_type_id(_geoms(table)) == 6)
    east = np.flatnonzero(fp.lon < -179.0)  # not split, east of 180 deg
    d = haversine_m(fp.lon[east], fp.lat[east], fp.lon[split[1]], fp.lat[split[1]])
    neighbour = int(east[np.argmin(d)])  # touches split[1] across 180 deg
    rng = np.random.default_rng(4)
    clip = unit(rng.standard_normal((len(ids), 64)))
    dino = unit(rng.standard_normal((len(ids), 32)))
    # two CLIP-blind twins (same for CLIP, opposite for DINOv2)
    for a, b in ((split[0], len(ids) - 1), (split[1], neighbour)):
        clip[b], dino[b] = clip[a], -dino[a]
    write_embeddings(ws, CLIP, ids, clip)
    write_embeddings(ws, DINO, ids, dino)
    run_mine(ws, MineParams(encoders="tiny"), quiet=True)
    got = {(r["tile_a"], r["tile_b"]) for r in pq.read_table(ws.pairs).to_pylist()}
    # 8,000 km apart: a pair; the same place across 180 deg: not a pair
    assert got == {tuple(sorted((ids[split[0]], "far")))}
