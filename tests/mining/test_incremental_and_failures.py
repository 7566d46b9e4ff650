"""Re-runs, changed scenes, bad inputs and the failures table."""

from __future__ import annotations

import os

import numpy as np
import pyarrow.parquet as pq

from blindpairs.workspace import Workspace

from .helpers import meta, rows, tile
from .rasters import textured, write_raster


def _snapshot(ws):
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in Workspace(ws).tile_parts()}


def test_rerun_is_idempotent_and_quick(tmp_path, raster):
    a = raster("a.tif", seed=1)
    b = raster("b.tif", seed=2)
    ws = tmp_path / "ws"
    tile(ws, [a, b])
    before = _snapshot(ws)
    again = tile(ws, [a, b])
    assert again.up_to_date and sorted(again.unchanged) == ["a", "b"]
    assert _snapshot(ws) == before


def test_changed_scene_is_retiled_new_scene_added_unchanged_untouched(tmp_path, scenes_dir, raster):
    a = raster("a.tif", seed=1)
    b = raster("b.tif", seed=2)
    ws = tmp_path / "ws"
    tile(ws, [a, b])
    ids_before = {r["tile_id"] for r in rows(ws, "a")}
    b_before = Workspace(ws).tile_part("b").read_bytes()
    write_raster(a, textured((3, 256, 256), "uint8", 99))  # new content, same name
    c = raster("c.tif", seed=3)
    summary = tile(ws, [a, b, c])
    assert summary.changed == ["a"] and summary.new == ["c"] and summary.unchanged == ["b"]
    assert Workspace(ws).tile_part("b").read_bytes() == b_before
    ids_after = {r["tile_id"] for r in rows(ws, "a")}
    assert ids_before.isdisjoint(ids_after)  # new content -> new tile ids


def test_touched_but_identical_file_is_not_retiled(tmp_path, raster):
    a = raster("a.tif", seed=1)
    ws = tmp_path / "ws"
    tile(ws, [a])
    before = _snapshot(ws)
    st = os.stat(a)
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    summary = tile(ws, [a])
    assert summary.unchanged == ["a"] and not summary.changed
    assert _snapshot(ws) == before


def test_changed_parameters_retile_with_new_ids(tmp_path, raster):
    a = raster("a.tif", seed=1)
    ws = tmp_path / "ws"
    tile(ws, [a])
    old = {r["tile_id"] for r in rows(ws, "a")}
    summary = tile(ws, [a], size=128)
    assert summary.changed == ["a"]
    new = rows(ws, "a")
    assert len(new) == 4 and old.isdisjoint({r["tile_id"] for r in new})
    assert meta(ws, "a")["params"]["size"] == 128


def test_bad_inputs_are_reported_and_spare_the_rest(tmp_path, scenes_dir, raster):
    good = raster("good.tif", seed=1)
    corrupt = scenes_dir / "corrupt.tif"
    corrupt.write_bytes(b"II*\x00" + os.urandom(500))
    text = scenes_dir / "notes.tif"
    text.write_text("not a raster")
    nocrs = raster("nocrs.tif", crs=None)
    small = raster("small.tif", height=40, width=40)
    empty = write_raster(scenes_dir / "empty.tif", np.zeros((3, 128, 128), np.uint8), nodata=0)
    missing = scenes_dir / "missing.tif"
    ws = tmp_path / "ws"
    summary = tile(ws, [good, corrupt, text, nocrs, small, empty, missing])
    assert summary.new == ["good"]
    reasons = dict(summary.failed)
    assert set(reasons) == {str(p) for p in (corrupt, text, nocrs, small, empty, missing)}
    assert "not a readable raster" in reasons[str(corrupt)]
    assert "not a readable raster" in reasons[str(text)]
    assert "no CRS" in reasons[str(nocrs)]
    assert "smaller than one tile" in reasons[str(small)]
    assert "nodata" in reasons[str(empty)]
    assert "not a readable raster" in reasons[str(missing)]
    table = pq.read_table(Workspace(ws).tile_failures).to_pylist()
    assert {r["scene_uri"] for r in table} == set(reasons)
    assert [p.name for p in Workspace(ws).tile_parts()] == ["part-good.parquet"]


def test_a_scene_that_breaks_later_keeps_its_finished_part(tmp_path, raster):
    a = raster("a.tif", seed=1)
    ws = tmp_path / "ws"
    tile(ws, [a])
    before = Workspace(ws).tile_part("a").read_bytes()
    a.write_bytes(b"garbage")
    summary = tile(ws, [a])
    assert summary.failed and Workspace(ws).tile_part("a").read_bytes() == before
    # once the file is good again the failure leaves the table
    write_raster(a, textured((3, 256, 256), "uint8", 5))
    summary = tile(ws, [a])
    assert summary.changed == ["a"]
    assert pq.read_table(Workspace(ws).tile_failures).num_rows == 0


def test_stale_temporaries_are_cleaned_and_never_read(tmp_path, raster):
    a = raster("a.tif", seed=1)
    ws = Workspace(tmp_path / "ws")
    ws.tiles.mkdir(parents=True)
    stale = ws.tiles / "part-a.parquet.tmp-123-abc"
    stale.write_bytes(b"half a part")
    summary = tile(ws.root, [a])
    assert summary.new == ["a"] and not stale.exists()


def test_same_file_name_in_two_folders_gets_distinct_ids(tmp_path, scenes_dir):
    (scenes_dir / "x").mkdir()
    (scenes_dir / "y").mkdir()
    p1 = write_raster(scenes_dir / "x" / "s.tif", textured((3, 64, 64), "uint8", 1))
    p2 = write_raster(scenes_dir / "y" / "s.tif", textured((3, 64, 64), "uint8", 2))
    ws = tmp_path / "ws"
    tile(ws, [p1])
    summary = tile(ws, [p1, p2])
    assert summary.unchanged == ["s"] and len(summary.new) == 1 and summary.new[0].startswith("s-")


def test_inputs_by_glob_folder_and_list_file(tmp_path, scenes_dir, raster):
    raster("a.tif", seed=1)
    raster("b.tif", seed=2)
    listing = tmp_path / "scenes.txt"
    listing.write_text(f"# scenes\n{scenes_dir / 'a.tif'}\n\nscenes/b.tif\n")
    for inputs, expected in (
        ([str(scenes_dir / "*.tif")], ["a", "b"]),
        ([str(scenes_dir)], ["a", "b"]),
        ([str(listing)], ["a", "b"]),
    ):
        ws = tmp_path / f"ws{len(str(inputs))}"
        assert sorted(tile(ws, inputs).new) == expected
