"""Ingest trusts tasks.json, not the Label Studio export: random weights, images, the card."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from annotation_export.export import export_workspace, meta_path, tasks_path
from annotation_export.ingest import ingest_workspace
from annotation_export.params import ExportParams, IngestParams
from annotation_export.tasks import image_file
from blindpairs import png
from blindpairs.errors import ConfigError
from blindpairs.schemas import read_metadata, with_metadata
from blindpairs.workspace import Workspace

from .files import annotation, result, write_pairs


def _ingest(ws: Workspace, export: list, tmp_path: Path, **kw) -> object:
    source = tmp_path / "export.json"
    source.write_text(json.dumps(export))
    return ingest_workspace(ws, IngestParams(annotations=str(source), **kw), source)


def _set_pairs_meta(ws: Workspace, **changes: object) -> None:
    table = pq.read_table(ws.pairs)
    schema = with_metadata(table.schema, {**read_metadata(ws.pairs), **changes})
    pq.write_table(table.replace_schema_metadata(schema.metadata), ws.pairs)


def _tile_png(ws: Workspace, scene: str, i: int) -> bytes:
    return pq.read_table(ws.tile_part(scene), columns=["image"])["image"][i].as_py()


def _four_pairs(ws: Workspace) -> list[tuple[str, str]]:
    return [(f"sceneA-t00{i}", f"sceneB-t00{i}") for i in range(4)]


def test_any_random_weight_task_is_refused_and_the_card_counts_per_pair(
    ws: Workspace, ls_export, tmp_path
) -> None:
    write_pairs(ws, _four_pairs(ws)[:2], random_weights=True)
    _set_pairs_meta(ws, clip_weights="random-seed0", dino_weights="random-seed0")
    export_workspace(ws, ExportParams())
    write_pairs(ws, _four_pairs(ws), random_weights=False)  # re-mined with real weights
    _set_pairs_meta(ws, clip_weights="openai", dino_weights="lvd142m")
    export_workspace(ws, ExportParams())
    tasks = json.loads(tasks_path(ws).read_text())
    assert [t["data"]["random_weights"] for t in tasks] == [True, True, False, False]
    assert json.loads(meta_path(ws).read_text())["random_weights"] is True  # sticky
    export = ls_export({p: [annotation(result())] for p in ("p000", "p002", "p003")})
    with pytest.raises(ConfigError, match="--allow-random-weights"):
        _ingest(ws, export, tmp_path)
    meta = json.loads(meta_path(ws).read_text())
    meta_path(ws).write_text(json.dumps({**meta, "random_weights": False}))
    with pytest.raises(ConfigError, match="--allow-random-weights"):  # the tasks still say so
        _ingest(ws, export, tmp_path)
    assert not ws.benchmark.exists()
    report = _ingest(ws, export, tmp_path, allow_random_weights=True)
    assert report.published == ["p000", "p002", "p003"]
    card = (ws.benchmark / "README.md").read_text()
    assert "RANDOM-WEIGHT" in card
    assert "| clip:test | openai | dinov2:test | lvd142m | 0.95 | 0.6 | False | 2 |" in card
    rnd = "random\\-seed0"  # markdown-escaped
    assert f"| clip:test | {rnd} | dinov2:test | {rnd} | 0.95 | 0.6 | True | 1 |" in card


def test_images_come_from_the_trusted_tile_ids(ws: Workspace, ls_export, tmp_path) -> None:
    export_workspace(ws, ExportParams(budget=3))
    export = ls_export({p: [annotation(result())] for p in ("p000", "p001", "p002")})
    export[1]["data"]["image_a"] = export[0]["data"]["image_a"]  # another tile's PNG
    image_file(ws, "sceneB-t002").unlink()  # lost export image: the tiles parquet has it
    report = _ingest(ws, export, tmp_path)
    assert report.published == ["p000", "p002"]
    (bad,) = report.bad_tasks
    assert bad["pair_id"] == "p001"
    assert "not the exported image of tile 'sceneA-t001'" in bad["reason"]
    rows = pq.read_table(ws.benchmark / "benchmark.parquet").to_pylist()
    for row in rows:
        scene, i = row["tile_id"].split("-t")
        want = png.compact(_tile_png(ws, scene, int(i)))  # the tile's pixels, deflated
        assert row["image"]["bytes"] == want, row["tile_id"]


def test_a_later_document_root_keeps_earlier_tasks_ingestible(
    ws: Workspace, ls_export, tmp_path
) -> None:
    export_workspace(ws, ExportParams(budget=2))
    export_workspace(ws, ExportParams(budget=2, document_root=str(tmp_path)))
    urls = [t["data"]["image_a"] for t in json.loads(tasks_path(ws).read_text())]
    assert "d=ws/" not in urls[0] and "d=ws/" in urls[2]  # two different roots
    export = ls_export({p: [annotation(result())] for p in ("p000", "p001", "p002", "p003")})
    report = _ingest(ws, export, tmp_path)
    assert report.published == ["p000", "p001", "p002", "p003"] and not report.bad_tasks
