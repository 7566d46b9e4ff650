"""Re-tiling with other options: every scene is re-tiled or loses its old tiles, and
``blindpairs status`` marks the downstream stages stale."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from blindpairs import schemas
from blindpairs.cli import main
from blindpairs.status import workspace_status
from blindpairs.workspace import Workspace

from .helpers import meta, rows, tile
from .rasters import textured, write_raster


def test_changed_options_retile_every_scene_even_unnamed_ones(tmp_path, raster) -> None:
    a = raster("a.tif", seed=1)
    b = raster("b.tif", seed=2)
    ws = tmp_path / "ws"
    tile(ws, [a, b])
    summary = tile(ws, [a], size=128)  # only a is named
    assert sorted(summary.changed) == ["a", "b"]
    assert any("re-tiling every scene" in n for n in summary.notes)
    assert {meta(ws, s)["params"]["size"] for s in ("a", "b")} == {128}
    assert {r["width"] for s in ("a", "b") for r in rows(ws, s)} == {128}


def test_a_scene_failing_with_new_options_loses_its_old_tiles(tmp_path, scenes_dir, raster):
    big = raster("big.tif", seed=1)
    small = write_raster(scenes_dir / "small.tif", textured((3, 96, 96), "uint8", 2))
    ws = tmp_path / "ws"
    tile(ws, [big, small])
    summary = tile(ws, [big, small], size=128)  # small is now smaller than one tile
    assert summary.changed == ["big"] and dict(summary.failed)[str(small)]
    assert [p.name for p in Workspace(ws).tile_parts()] == ["part-big.parquet"]
    assert any(
        "small: its tiles made with the old options were removed" in n for n in summary.notes
    )
    widths = {r["width"] for r in rows(ws, "big")}
    assert widths == {128}  # the workspace never mixes tile sizes


def _embed_and_pair(ws: Workspace) -> None:
    ids = pq.read_table(ws.tile_parts()[0], columns=["tile_id"]).column("tile_id").to_pylist()
    folder = ws.embeddings / "clip-tiny-random"
    folder.mkdir(parents=True)
    vectors = pa.array([[1.0, 0.0]] * len(ids), pa.list_(pa.float32(), 2))
    pq.write_table(
        pa.table([pa.array(ids), vectors], schema=schemas.embeddings_schema(2)),
        folder / "part-a-0.parquet",
    )
    pairs = {n: [None] for n in schemas.PAIRS_SCHEMA.names}
    pairs.update(pair_id=["p"], tile_a=[ids[0]], tile_b=[ids[1]])
    ws.pairs.parent.mkdir(parents=True)
    pq.write_table(pa.table(pairs, schema=schemas.PAIRS_SCHEMA.with_metadata(None)), ws.pairs)


def test_status_shows_stages_stale_after_retiling(tmp_path, raster, capsys) -> None:
    a = raster("a.tif", seed=1)
    ws = Workspace(tmp_path / "ws")
    tile(ws.root, [a])
    _embed_and_pair(ws)
    before = {s.stage: s for s in workspace_status(ws)}
    assert before["embed"].ready and not before["embed"].stale and not before["mine"].stale
    tile(ws.root, [a], size=128)
    after = {s.stage: s for s in workspace_status(ws)}
    assert not after["tile"].stale
    assert "4 of 4 tiles have no clip-tiny-random embedding" in after["embed"].stale
    assert "no longer in tiles/" in after["mine"].stale
    assert main(["status", "-w", str(ws.root)]) == 0
    out = capsys.readouterr().out
    assert any(line.split()[:2] == ["mine", "stale"] for line in out.splitlines()), out


def test_status_of_a_missing_workspace_says_so(tmp_path, capsys) -> None:
    assert main(["status", "-w", str(tmp_path / "nowhere")]) == 2
    assert "no such workspace" in capsys.readouterr().err
