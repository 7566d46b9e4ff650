"""End to end: generated scenes -> tiles -> embeddings -> pairs -> annotation -> benchmark
-> evaluation -> report, then a no-op rebuild and a rebuild with one new scene.

The annotations are written by this test (as a Label Studio JSON export), not by the product.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from blindpairs.cli import main
from blindpairs.workspace import Workspace
from tests.annotation_export.files import annotation, result

pytestmark = pytest.mark.slow

TINY = ["--encoders", "tiny"]


def run(*argv: str) -> None:
    assert main([*argv, "-q"]) == 0, argv


def stage_all(ws: Path, scenes: Path) -> None:
    run("tile", str(scenes), "-w", str(ws), "--size", "256")
    run("embed", "-w", str(ws), *TINY, "--compute-dtype", "float32")
    run("mine", "-w", str(ws), *TINY)
    run("export", "-w", str(ws))


def fake_annotations(ws: Workspace, out: Path) -> list[str]:
    """Answer every exported task: image A is 'a', image B is 'b'."""
    tasks = json.loads((ws.label_studio / "tasks.json").read_text())
    export = []
    for i, task in enumerate(tasks, start=1):
        res = result(
            category="count",
            question=f"Is there <b>water</b> in image {i}?",
            option_a="Yes",
            option_b="No",
            answer_a="a",
            answer_b="b",
        )
        export.append({"id": i, "data": task["data"], "annotations": [annotation(res)]})
    out.write_text(json.dumps(export))
    return [t["data"]["pair_id"] for t in tasks]


def mtimes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_build_evaluate_report_and_rebuild(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from mining.example import write_example_scenes

    scenes = tmp_path / "scenes"
    paths = write_example_scenes(scenes)
    held_back = tmp_path / "later" / paths[0].name
    held_back.parent.mkdir()
    shutil.move(paths[0], held_back)  # added in the rebuild below
    ws = Workspace(tmp_path / "ws")

    stage_all(ws.root, scenes)
    pairs = pq.read_table(ws.pairs).to_pylist()
    assert pairs, "the tiny encoders find CLIP-blind pairs in the example scenes"
    assert pq.read_metadata(ws.pairs).metadata  # with the encoders and random_weights
    exported = fake_annotations(ws, tmp_path / "ls_export.json")
    assert sorted(exported) == sorted(p["pair_id"] for p in pairs)

    # random-weight pairs are refused unless allowed
    assert (
        main(
            ["ingest", "-w", str(ws.root), "--annotations", str(tmp_path / "ls_export.json"), "-q"]
        )
        != 0
    )
    run(
        "ingest",
        "-w",
        str(ws.root),
        "--annotations",
        str(tmp_path / "ls_export.json"),
        "--allow-random-weights",
    )
    bench = pq.read_table(ws.benchmark / "benchmark.parquet").to_pylist()
    assert len(bench) == 2 * len(exported)
    assert [r["index"] for r in bench] == list(range(1, len(bench) + 1))
    assert [r["answer"] for r in bench[:2]] == ["a", "b"]
    assert bench[0]["question"].startswith("Is there <b>water</b>")  # kept as text

    run("evaluate", "-w", str(ws.root), "--models", "random,clip:clip-tiny-random")
    board = (ws.evaluation / "leaderboard.csv").read_text()
    assert "random" in board and "clip-tiny-random" in board
    for run_dir in ("random", "clip_clip-tiny-random"):
        scores = json.loads((ws.evaluation / run_dir / "scores.json").read_text())
        lines = (ws.evaluation / run_dir / "responses.jsonl").read_text().splitlines()
        assert len(lines) == len(bench)
        assert 0.0 <= scores["pair_accuracy"]["accuracy"] <= 1.0

    run("report", "-w", str(ws.root))
    capsys.readouterr()
    run("status", "-w", str(ws.root))
    status = capsys.readouterr().out
    for stage in ("tile", "embed", "mine", "export", "ingest", "evaluate", "report"):
        assert any(line.split()[:2] == [stage, "ok"] for line in status.splitlines()), status
    assert f"{len(exported)} pairs, {len(bench)} questions" in status
    page = (ws.reports / "index.html").read_text()
    assert pairs[0]["pair_id"] in page or pairs[0]["tile_a"] in page
    assert "<b>water</b>" not in page and "&lt;b&gt;water&lt;/b&gt;" in page

    # a no-op rebuild changes nothing
    before = mtimes(ws.root)
    capsys.readouterr()
    stage_all(ws.root, scenes)
    out = capsys.readouterr().out
    assert "up to date" in out
    assert mtimes(ws.root) == before

    # a new scene: only its tiles are cut and embedded, old pairs keep id and rank
    shutil.move(held_back, scenes / held_back.name)
    stage_all(ws.root, scenes)
    out = capsys.readouterr().out
    assert "1 new, 0 changed, 4 unchanged" in out
    new_pairs = {p["pair_id"]: p["rank"] for p in pq.read_table(ws.pairs).to_pylist()}
    for p in pairs:
        assert new_pairs[p["pair_id"]] == p["rank"]
    tasks = json.loads((ws.label_studio / "tasks.json").read_text())
    assert [t["data"]["pair_id"] for t in tasks][: len(exported)] == exported

    # a changed mine parameter redoes mine and what follows it, nothing before it
    upstream = {k: v for k, v in mtimes(ws.root).items() if k.startswith(("tiles/", "embeddings/"))}
    pairs_before = ws.pairs.read_bytes()
    run("mine", "-w", str(ws.root), *TINY, "--tau-dino", "0.7")
    run("export", "-w", str(ws.root))
    after = mtimes(ws.root)
    assert {k: after[k] for k in upstream} == upstream
    assert ws.pairs.read_bytes() != pairs_before
    tasks_after = json.loads((ws.label_studio / "tasks.json").read_text())
    assert len(tasks_after) > len(tasks)  # more pairs pass the looser threshold, appended
    assert [t["data"]["pair_id"] for t in tasks_after][: len(tasks)] == [
        t["data"]["pair_id"] for t in tasks
    ]
