"""The round trip against a real Label Studio server: push, serve, annotate, pull, publish."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pyarrow.parquet as pq
import pytest

from blindpairs.cli import main
from blindpairs.workspace import Workspace

from . import label_studio_server
from .files import result, write_pairs, write_tiles

pytestmark = pytest.mark.labelstudio


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[label_studio_server.Server]:
    proc, srv = label_studio_server.start(tmp_path_factory.mktemp("labelstudio"))
    try:
        yield srv
    finally:
        label_studio_server.stop(proc)


def test_round_trip(server, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", server.token)
    ws = Workspace(server.document_root / "ws")
    a, b = write_tiles(ws, "sceneA", 4, seed=1), write_tiles(ws, "sceneB", 4, seed=2)
    write_pairs(ws, list(zip(a, b, strict=True)))
    common = ["-w", str(ws.root), "--document-root", str(server.document_root), "-q"]
    assert main(["export", *common, "--budget", "3", "--push", server.url]) == 0
    assert "3 task(s) added" in capsys.readouterr().out

    # Re-export and re-push: one new pair, the three already there are not added again.
    assert main(["export", *common, "--budget", "1", "--push", server.url]) == 0
    assert "1 task(s) added, 3 already there" in capsys.readouterr().out

    from label_studio_sdk import LabelStudio

    client = LabelStudio(base_url=server.url, api_key=server.token)
    project_id = json.loads((ws.label_studio / "push.json").read_text())["project_id"]
    tasks = {t.data["pair_id"]: t for t in client.tasks.list(project=project_id, fields="all")}
    assert sorted(tasks) == ["p000", "p001", "p002", "p003"]

    headers = {"Authorization": f"Token {server.token}"}
    for pid, task in tasks.items():
        for side in ("a", "b"):
            r = httpx.get(server.url + task.data[f"image_{side}"], headers=headers, timeout=30)
            assert r.status_code == 200, (pid, side, r.status_code)
            tile = task.data[f"tile_{side}"]
            assert r.content == (ws.label_studio / "images" / f"{tile}.png").read_bytes()

    markup = "Is the <b>roof</b> & the road <script>x</script> red?"
    annotated = {
        "p000": result(question=markup, category="color", option_a="Yes", option_b="No"),
        "p001": result(verdict="reject", reject_reason="both tiles are cloud"),
        "p002": result(category="count", answer_a="b", answer_b="a"),
        "p003": result(answer_b="a"),  # invalid: same answer for both images
    }
    for pid, res in annotated.items():
        client.annotations.create(id=tasks[pid].id, result=res, was_cancelled=False)

    assert main(["ingest", "-w", str(ws.root), "--pull", server.url, "-q"]) == 0
    out = capsys.readouterr().out
    assert "2 pair(s) published" in out and "1 rejected, 1 invalid" in out

    rows = pq.read_table(ws.benchmark / "benchmark.parquet").to_pylist()
    assert [(r["index"], r["pair_id"], r["answer"]) for r in rows] == [
        (1, "p000", "a"), (2, "p000", "b"), (3, "p002", "b"), (4, "p002", "a"),
    ]  # fmt: skip
    assert rows[0]["question"] == markup and rows[0]["category"] == "color"
    assert (rows[0]["option_a"], rows[0]["option_b"]) == ("Yes", "No")
    assert rows[2]["category"] == "count"
    for r in rows:
        assert (
            r["image"]["bytes"] == (ws.label_studio / "images" / f"{r['tile_id']}.png").read_bytes()
        )
    report = json.loads((ws.root / "annotation" / "ingest_report.json").read_text())
    assert report["rejected"][0]["reason"] == "both tiles are cloud"
    assert "same answer" in report["invalid"][0]["reason"]
    prov = json.loads((ws.benchmark / "provenance.json").read_text())
    assert prov["pairs"]["p000"]["task_id"] == str(tasks["p000"].id)
