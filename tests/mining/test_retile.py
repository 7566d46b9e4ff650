"""Re-tiling with other options: every scene is re-tiled or nothing is done (unless
``--drop-failed``), and ``blindpairs status`` marks the downstream stages stale."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blindpairs import schemas
from blindpairs.cli import main
from blindpairs.errors import ConfigError
from blindpairs.status import workspace_status
from blindpairs.workspace import Workspace
from mining.params import TILER_VERSION

from .helpers import meta, rows, tile
from .rasters import textured, write_raster


def test_changed_options_retile_every_scene_even_unnamed_ones(tmp_path, raster) -> None:
    a = raster("a.tif", seed=1)
    b = raster("b.tif", seed=2)
    ws = tmp_path / "ws"
    tile(ws, [a, b])
    summary = tile(ws, [a], size=128)  # only a is named
    assert sorted(summary.changed) == ["a", "b"]
    assert any(
        "re-tiling every scene" in n and "options differ (size 64 -> 128)" in n
        for n in summary.notes
    )
    assert {meta(ws, s)["params"]["size"] for s in ("a", "b")} == {128}
    assert {r["width"] for s in ("a", "b") for r in rows(ws, s)} == {128}


def _files(ws: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((ws / "tiles").iterdir())}


def test_a_scene_failing_with_new_options_refuses_and_keeps_everything(
    tmp_path, scenes_dir, raster, capsys
) -> None:
    big = raster("big.tif", seed=1)
    small = write_raster(scenes_dir / "small.tif", textured((3, 96, 96), "uint8", 2))
    ws = tmp_path / "ws"
    tile(ws, [big, small])
    before = _files(ws)
    with pytest.raises(ConfigError, match="--drop-failed") as err:
        tile(ws, [big, small], size=128)  # small is now smaller than one tile
    assert "small" in str(err.value) and "options differ (size 64 -> 128)" in str(err.value)
    assert _files(ws) == before  # nothing written or deleted
    code = main(["tile", "-w", str(ws), "-q", "--size", "128", str(big), str(small)])
    assert code == 2
    message = capsys.readouterr().err
    assert "nothing was written or deleted" in message and str(small) in message
    assert _files(ws) == before


def test_a_scene_whose_file_is_gone_keeps_its_tiles(tmp_path, raster) -> None:
    a = raster("a.tif", seed=1)
    b = raster("b.tif", seed=2)
    ws = tmp_path / "ws"
    tile(ws, [a, b])
    before = _files(ws)
    b.unlink()  # offline, moved or deleted: its finished tiles must survive
    with pytest.raises(ConfigError, match="restore or fix those files") as err:
        tile(ws, [a], size=128)
    assert "b (" in str(err.value) and "not a readable raster" in str(err.value)
    assert _files(ws) == before


def test_drop_failed_removes_the_old_tiles_of_failing_scenes(tmp_path, scenes_dir, raster):
    big = raster("big.tif", seed=1)
    small = write_raster(scenes_dir / "small.tif", textured((3, 96, 96), "uint8", 2))
    ws = tmp_path / "ws"
    tile(ws, [big, small])
    summary = tile(ws, [big, small], size=128, drop_failed=True)
    assert summary.changed == ["big"] and dict(summary.failed)[str(small)]
    assert [p.name for p in Workspace(ws).tile_parts()] == ["part-big.parquet"]
    assert any("small: its tiles made with the old tiling were removed" in n for n in summary.notes)
    assert {r["width"] for r in rows(ws, "big")} == {128}  # the workspace never mixes sizes


def _as_made_by_tiler_1(part: Path) -> None:
    """Rewrite a part's metadata as tiler version 1 wrote it: another tiling hash and
    no options that version 2 added."""
    table = pq.read_table(part)
    old = json.loads(table.schema.metadata[schemas.META_KEY])
    old.update(tiler_version=1, tiling="0123456789ab")
    for key in ("nodata", "detect_fill"):
        old["params"].pop(key)
    kv = {**table.schema.metadata, schemas.META_KEY: json.dumps(old).encode()}
    pq.write_table(table.replace_schema_metadata(kv), part)


def test_a_tiler_upgrade_alone_says_so_not_that_options_changed(tmp_path, raster) -> None:
    a = raster("a.tif", seed=1)
    ws = tmp_path / "ws"
    tile(ws, [a])
    _as_made_by_tiler_1(Workspace(ws).tile_part("a"))
    summary = tile(ws, [a])  # the same options
    note = next(n for n in summary.notes if "re-tiling every scene" in n)
    assert f"tiler version 1 -> {TILER_VERSION}" in note and "options differ" not in note
    assert summary.changed == ["a"] and meta(ws, "a")["tiler_version"] == TILER_VERSION


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
    assert not after["embed"].ready  # its embeddings are of tiles no longer there
    assert "INCOMPLETE (4 of 4 tiles not embedded" in after["embed"].detail
    assert "no longer in tiles/" in after["mine"].stale
    assert main(["status", "-w", str(ws.root)]) == 0
    out = capsys.readouterr().out
    assert any(line.split()[:2] == ["mine", "stale"] for line in out.splitlines()), out


def test_status_counts_only_embeddings_of_current_tiles(tmp_path, raster) -> None:
    a = raster("a.tif", seed=1)
    ws = Workspace(tmp_path / "ws")
    tile(ws.root, [a])
    _embed_and_pair(ws)  # 16 tiles of 64 px, all embedded
    assert {s.stage: s for s in workspace_status(ws)}["embed"].detail == "clip-tiny-random: 16"
    tile(ws.root, [a], size=128)  # 4 new tiles; the 16 embeddings are of tiles now gone
    embed = {s.stage: s for s in workspace_status(ws)}["embed"]
    assert not embed.ready
    assert embed.detail.startswith("clip-tiny-random: 0, and 16 of tiles no longer in tiles/")
    assert "embed --prune" in embed.detail and "INCOMPLETE (4 of 4 tiles not embedded" in (
        embed.detail
    )


def test_status_of_a_missing_workspace_says_so(tmp_path, capsys) -> None:
    assert main(["status", "-w", str(tmp_path / "nowhere")]) == 2
    assert "no such workspace" in capsys.readouterr().err
