"""The export stage: tasks, images, labeling config, budget and resumable re-export."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from annotation_export.categories import CATEGORIES
from annotation_export.export import export_workspace
from annotation_export.params import ExportParams
from annotation_export.tasks import url_to_relative_path
from blindpairs.cli import main
from blindpairs.errors import ConfigError, WorkspaceError
from blindpairs.workspace import Workspace

from .files import write_tiles


def _tasks(ws: Workspace) -> list[dict]:
    return json.loads((ws.label_studio / "tasks.json").read_text())


def test_export_writes_tasks_images_and_config(ws: Workspace) -> None:
    summary = export_workspace(ws, ExportParams(budget=3))
    assert summary.added == ["p000", "p001", "p002"]  # best first, by rank
    tasks = _tasks(ws)
    assert [t["data"]["pair_id"] for t in tasks] == summary.added
    data = tasks[0]["data"]
    assert (data["tile_a"], data["tile_b"]) == ("sceneA-t000", "sceneB-t000")
    assert data["scene_a"] == "sceneA" and data["scene_b"] == "sceneB"
    assert data["location_a"].endswith("W") and "43.0005" in data["location_a"]
    assert data["clip_sim"] == pytest.approx(0.97) and data["random_weights"] is False
    for key in ("image_a", "image_b"):
        path = ws.root / url_to_relative_path(data[key])
        assert path.read_bytes().startswith(b"\x89PNG")
    root = ET.fromstring((ws.label_studio / "labeling_config.xml").read_text())
    category = next(e for e in root.iter("Choices") if e.get("name") == "category")
    assert [c.get("alias") for c in category] == [c.id for c in CATEGORIES]
    assert len(CATEGORIES) == 9
    names = {e.get("name") for e in root.iter() if e.get("name")}
    assert {"question", "option_a", "option_b", "answer_a", "answer_b", "verdict"} <= names


def test_reexport_appends_only_new_pairs(ws: Workspace) -> None:
    export_workspace(ws, ExportParams(budget=2))
    first = _tasks(ws)
    summary = export_workspace(ws, ExportParams(budget=3))
    assert summary.added == ["p002", "p003", "p004"] and summary.already == 2
    tasks = _tasks(ws)
    assert tasks[:2] == first
    assert [t["data"]["pair_id"] for t in tasks] == [f"p00{i}" for i in range(5)]
    again = export_workspace(ws, ExportParams(budget=10))
    assert again.added == ["p005"]
    assert export_workspace(ws, ExportParams()).added == []


def test_pair_with_missing_tile_is_recorded_and_others_exported(ws: Workspace) -> None:
    ws.tile_part("sceneB").unlink()
    write_tiles(ws, "sceneB", 3, seed=2)  # tiles 3..5 of scene B are gone
    summary = export_workspace(ws, ExportParams(budget=10))
    assert summary.added == ["p000", "p001", "p002"]
    assert set(summary.failed) == {"p003", "p004", "p005"}
    assert "not in the workspace's tiles" in summary.failed["p003"]
    failures = json.loads((ws.label_studio / "_failures.json").read_text())
    assert {f["pair_id"] for f in failures} == set(summary.failed)


def test_document_root_must_contain_workspace(ws: Workspace, tmp_path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    with pytest.raises(ConfigError, match="does not contain the workspace"):
        export_workspace(ws, ExportParams(document_root=str(other)))
    export_workspace(ws, ExportParams(document_root=str(tmp_path)))
    url = _tasks(ws)[0]["data"]["image_a"]
    assert url_to_relative_path(url).startswith("ws/annotation/label_studio/images/")


def test_export_without_pairs_says_to_run_mine(tmp_path) -> None:
    with pytest.raises(WorkspaceError, match="blindpairs mine"):
        export_workspace(Workspace(tmp_path), ExportParams())


def test_cli_export_summary_and_nothing_to_do(ws: Workspace, capsys) -> None:
    assert main(["export", "-w", str(ws.root), "--budget", "10", "-q"]) == 0
    assert "6 pair(s) added" in capsys.readouterr().out
    assert main(["export", "-w", str(ws.root), "-q"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert "export" in (ws.root / "config.yaml").read_text()


def test_cli_push_without_token_fails_before_work(ws: Workspace, monkeypatch, capsys) -> None:
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    assert main(["export", "-w", str(ws.root), "--push", "http://127.0.0.1:9"]) == 2
    assert "LABEL_STUDIO_API_KEY" in capsys.readouterr().err
    assert not (ws.label_studio / "tasks.json").exists()
    assert main(["export", "-w", str(ws.root), "--push", "ftp://x"]) == 2


def test_images_stored_uncompressed_leave_the_workspace_compressed(tmp_path) -> None:
    """Tiles are stored at PNG level 0 (fast tiling); exported images are deflated,
    pixel for pixel the same."""
    import io

    import numpy as np
    from PIL import Image

    from blindpairs.png import encode_png
    from tests.tiles import Tile, write_tile_part

    from .files import write_pairs

    ws = Workspace(tmp_path / "ws")
    smooth = np.add.outer(np.arange(64), np.arange(64)).astype(np.uint8)
    pixels = {f"s{k}-t0": np.stack([smooth + k, smooth, smooth.T]) for k in range(2)}
    for k, (tile_id, rgb) in enumerate(pixels.items()):
        box = (-88.0 + k, 43.0, -87.9 + k, 43.1)
        write_tile_part(ws, f"s{k}", [Tile(tile_id, box, encode_png(rgb, 0), gsd_m=0.5)])
    write_pairs(ws, [tuple(pixels)])
    export_workspace(ws, ExportParams(budget=1))
    for tile_id, rgb in pixels.items():
        data = (ws.label_studio / "images" / f"{tile_id}.png").read_bytes()
        assert len(data) < len(encode_png(rgb, 0)) / 2
        got = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).transpose(2, 0, 1)
        assert np.array_equal(got, rgb)
