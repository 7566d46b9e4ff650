"""Ingest: validation outcomes, policies, errata, the three formats and stable indexes."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

from annotation_export.export import export_workspace
from annotation_export.ingest import ingest_workspace, report_path
from annotation_export.params import ExportParams, IngestParams
from blindpairs import png
from blindpairs.cli import main
from blindpairs.errors import ConfigError, InputError
from blindpairs.schemas import BENCHMARK_COLUMNS, MMVP_COLUMNS
from blindpairs.workspace import Workspace

from .files import annotation, result, write_pairs


def _write(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj))
    return path


def _ingest(ws: Workspace, export: list, tmp_path: Path, **kw) -> object:
    source = _write(tmp_path / "export.json", export)
    return ingest_workspace(ws, IngestParams(annotations=str(source), **kw), source)


@pytest.fixture
def exported(ws: Workspace) -> Workspace:
    export_workspace(ws, ExportParams(budget=4))
    return ws


def _mmvp_rows(folder: Path) -> list[list[str]]:
    """Questions.csv read the way MMVP's evaluation script reads it (csv.reader, skip header)."""
    with open(folder / "Questions.csv") as f:
        reader = csv.reader(f)
        header = next(reader)
        assert header == ["Index", "Question", "Options", "Correct Answer"]
        return list(reader)


def test_publish_three_formats(exported: Workspace, ls_export, tmp_path) -> None:
    q = "Is there a <b>pool</b> | & `x`?"
    report = _ingest(
        exported,
        ls_export(
            {
                "p000": [annotation(result(question=q, category="presence"))],
                "p001": [annotation(result(answer_a="b", answer_b="a"))],
                "p002": [annotation(result(verdict="reject", reject_reason="same field"))],
                "p003": [annotation(result(option_b="one"))],
            }
        ),
        tmp_path,
    )
    assert report.published == ["p000", "p001"]
    assert [r["pair_id"] for r in report.rejected] == ["p002"]
    assert report.rejected[0]["reason"] == "same field"
    assert [r["pair_id"] for r in report.invalid] == ["p003"]
    bench = exported.benchmark
    table = pq.read_table(bench / "benchmark.parquet")
    assert tuple(table.column_names) == BENCHMARK_COLUMNS + MMVP_COLUMNS
    rows = [{**r, "image": r["image"]["bytes"]} for r in table.to_pylist()]
    assert [r["index"] for r in rows] == [1, 2, 3, 4]
    assert [r["answer"] for r in rows] == ["a", "b", "b", "a"]
    assert rows[0]["question"] == q and rows[0]["category"] == "presence"
    assert rows[0]["tile_id"] == "sceneA-t000" and rows[1]["tile_id"] == "sceneB-t000"
    tile_png = pq.read_table(exported.tile_part("sceneB"), columns=["image"])["image"][0]
    assert rows[1]["image"] == png.compact(tile_png.as_py())  # same pixels, deflated

    from datasets import load_dataset

    ds = load_dataset("parquet", data_files=str(bench / "benchmark.parquet"))["train"]
    assert ds.num_rows == 4 and ds[2]["answer"] == "b"
    assert ds[0]["image"].tobytes() == Image.open(io.BytesIO(rows[0]["image"])).tobytes()
    assert (ds[0]["Index"], ds[0]["Question"], ds[0]["Options"]) == (1, q, "(a) One (b) Two")
    assert [r["Correct Answer"] for r in ds] == ["(a)", "(b)", "(b)", "(a)"]

    mmvp = _mmvp_rows(bench)
    assert mmvp[0] == ["1", q, "(a) One (b) Two", "(a)"]
    assert [r[3] for r in mmvp] == ["(a)", "(b)", "(b)", "(a)"]
    for r in mmvp:
        assert (bench / "images" / f"{r[0]}.png").read_bytes() == rows[int(r[0]) - 1]["image"]
        assert (bench / "MMVP Images" / f"{r[0]}.jpg").read_bytes() == rows[int(r[0]) - 1]["image"]

    with open(bench / "benchmark.tsv", newline="") as f:
        tsv = list(csv.DictReader(f, delimiter="\t"))
    assert list(tsv[0]) == ["index", "image", "question", "A", "B", "answer", "category"]
    assert [t["answer"] for t in tsv] == ["A", "B", "B", "A"]
    assert base64.b64decode(tsv[3]["image"]) == rows[3]["image"]
    assert tsv[0]["question"] == q

    card = (bench / "README.md").read_text()
    assert card.startswith("---\nlicense: other\n")
    assert "| presence | Presence of specific features | 1 |" in card
    assert "| count | Quantity and count | 1 |" in card
    assert "sceneA" in card and "dinov2:test" in card and "0.95" in card
    assert "<b>" not in card and "&lt;b&gt;pool&lt;/b&gt; \\| &amp; \\`x\\`?" in card
    saved = json.loads(report_path(exported).read_text())
    assert saved["counts"]["published"] == 2 and saved["counts"]["rejected"] == 1


def test_published_benchmark_loads_in_evaluation_loader(exported: Workspace, ls_export, tmp_path):
    loaders = pytest.importorskip("evaluation.loaders")
    _ingest(exported, ls_export({"p000": [annotation(result())]}), tmp_path)
    for path in (exported.benchmark, exported.benchmark / "benchmark.tsv"):
        loaded = loaders.load_benchmark(path)
        assert [i.answer for i in loaded.items] == ["a", "b"] and not loaded.problems
    loaded = loaders.load_benchmark(exported.benchmark, "mmvp")
    assert [i.option_b for i in loaded.items] == ["Two", "Two"]


def test_indexes_stay_stable_when_the_benchmark_grows(exported: Workspace, ls_export, tmp_path):
    first = {"p001": [annotation(result())], "p003": [annotation(result())]}
    _ingest(exported, ls_export(first), tmp_path)
    before = pq.read_table(exported.benchmark / "benchmark.parquet").to_pylist()
    grown = {**first, "p000": [annotation(result())], "p002": [annotation(result())]}
    _ingest(exported, ls_export(grown), tmp_path)
    after = pq.read_table(exported.benchmark / "benchmark.parquet").to_pylist()
    assert after[:4] == before
    assert [r["pair_id"] for r in after[4:]] == ["p000", "p000", "p002", "p002"]
    assert [r["index"] for r in after] == list(range(1, 9))


def test_policies_and_disagreement_report(exported: Workspace, ls_export, tmp_path) -> None:
    export = ls_export(
        {
            "p000": [
                annotation(result(), who=1, at="2025-01-01"),
                annotation(result(answer_a="b", answer_b="a"), who=2, at="2025-01-02"),
            ]
        }
    )
    report = _ingest(exported, export, tmp_path)
    assert report.published == []
    (dis,) = report.disagreements
    assert dis["pair_id"] == "p000"
    assert {a["annotator"] for a in dis["annotations"]} == {"1", "2"}
    report = _ingest(exported, export, tmp_path, policy="latest")
    assert report.published == ["p000"]
    rows = pq.read_table(exported.benchmark / "benchmark.parquet").to_pylist()
    assert [r["answer"] for r in rows] == ["b", "a"]
    report = _ingest(exported, export, tmp_path, policy="latest", min_annotations=3)
    assert report.pending and report.published == []


def test_errata_correct_items_with_provenance(exported: Workspace, ls_export, tmp_path) -> None:
    errata = tmp_path / "errata.yaml"
    errata.write_text(
        "p000:\n  question: How many ships are there?\n  answer_a: b\n  answer_b: a\n"
        "  reason: swapped answers\n  author: jdoe\n"
        "p001:\n  drop: true\n  reason: duplicate scene\n"
        "p002:\n  answer_b: a\n  reason: makes it invalid\n"
        "p003:\n  colour: red\n"
        "zzz:\n  question: x\n  reason: unknown pair\n"
    )
    export = ls_export({p: [annotation(result())] for p in ("p000", "p001", "p002")})
    report = _ingest(exported, export, tmp_path, errata=str(errata))
    assert report.published == ["p000"]
    rows = pq.read_table(exported.benchmark / "benchmark.parquet").to_pylist()
    assert rows[0]["question"] == "How many ships are there?"
    assert [r["answer"] for r in rows] == ["b", "a"]
    prov = json.loads((exported.benchmark / "provenance.json").read_text())["pairs"]["p000"]
    assert prov["errata"]["author"] == "jdoe" and prov["errata"]["reason"] == "swapped answers"
    assert {"field": "answer_a", "old": "a", "new": "b"} in prov["errata"]["changes"]
    assert prov["as_annotated"]["question"] == "How many buildings are there?"
    assert any("corrected item is invalid" in r["reason"] for r in report.invalid)
    reasons = " ".join(r["reason"] for r in report.bad_tasks)
    assert "unknown field(s) colour" in reasons and "erratum for an unknown pair id" in reasons
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just a list\n")
    with pytest.raises(InputError, match="mapping of pair id"):
        _ingest(exported, export, tmp_path, errata=str(bad))


def test_bad_input_never_stops_the_others(exported: Workspace, ls_export, tmp_path) -> None:
    export = ls_export({p: [annotation(result())] for p in ("p000", "p001", "p002", "p003")})
    export[1]["data"]["image_a"] = "/data/local-files/?d=../../etc/passwd"
    export[2]["data"]["pair_id"] = "p999"
    export[3]["data"]["tile_b"] = "someone-else"
    export.append({"id": 77})
    export.append({"id": 78, "data": {"pair_id": "p000"}, "annotations": [{"result": "x"}]})
    report = _ingest(exported, export, tmp_path)
    assert report.published == ["p000"]
    reasons = {r.get("pair_id") or r.get("task"): r["reason"] for r in report.bad_tasks}
    assert "is not the exported image of tile 'sceneA-t001'" in reasons["p001"]
    assert reasons["p999"] == "unknown pair id: not in tasks.json"
    assert "differ from the export" in reasons["p003"]
    assert reasons["task 77"] == "task has no data object"
    export[0]["data"]["image_b"] = "http://example.com/x.png"
    assert _ingest(exported, export[:1], tmp_path).published == []


def test_malformed_json_fails_with_the_file_name(exported: Workspace, tmp_path) -> None:
    source = tmp_path / "broken.json"
    source.write_text("[{")
    with pytest.raises(InputError, match="broken.json: not valid JSON"):
        ingest_workspace(exported, IngestParams(annotations=str(source)), source)


def test_refuses_random_weight_pairs_unless_allowed(ws: Workspace, ls_export, tmp_path) -> None:
    pairs = [(f"sceneA-t00{i}", f"sceneB-t00{i}") for i in range(2)]
    write_pairs(ws, pairs, random_weights=True)
    export_workspace(ws, ExportParams())
    export = ls_export({"p000": [annotation(result())]})
    with pytest.raises(ConfigError, match="--allow-random-weights"):
        _ingest(ws, export, tmp_path)
    assert not ws.benchmark.exists()
    _ingest(ws, export, tmp_path, allow_random_weights=True)
    assert "RANDOM-WEIGHT" in (ws.benchmark / "README.md").read_text()


def test_cli_ingest_up_to_date_and_summary(exported: Workspace, ls_export, tmp_path, capsys):
    source = _write(tmp_path / "e.json", ls_export({"p000": [annotation(result())]}))
    argv = ["ingest", "-w", str(exported.root), "--annotations", str(source), "-q"]
    assert main(argv) == 0
    assert "1 pair(s) published" in capsys.readouterr().out
    assert main(argv) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main([*argv, "--force"]) == 0
    assert "published" in capsys.readouterr().out
    assert main(argv) == 0  # --force is not remembered as a change
    assert "nothing to do" in capsys.readouterr().out
    assert main(["ingest", "-w", str(exported.root)]) == 2
    assert "exactly one of" in capsys.readouterr().err


def test_config_section_and_nothing_usable(exported: Workspace, ls_export, tmp_path, capsys):
    export = ls_export(
        {
            "p000": [
                annotation(result(), at="2025-01-01"),
                annotation(result(verdict="reject"), at="2025-01-02"),
            ]
        }
    )
    source = _write(tmp_path / "e.json", export)
    config = tmp_path / "c.yaml"
    config.write_text(f"ingest:\n  policy: latest\n  annotations: {source}\n")
    assert main(["ingest", "-w", str(exported.root), "-c", str(config), "-q"]) == 0
    assert "0 pair(s) published to nowhere" in capsys.readouterr().out
    assert not exported.benchmark.exists()
    saved = json.loads(report_path(exported).read_text())
    assert saved["policy"] == "latest" and saved["rejected"][0]["pair_id"] == "p000"
    config.write_text("ingest:\n  policy: majority\n")
    assert main(["ingest", "-w", str(exported.root), "-c", str(config)]) == 2
    assert "policy" in capsys.readouterr().err
