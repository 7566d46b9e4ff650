"""The published benchmark loads as it is in datasets, lmms-eval and VLMEvalKit (issue 11)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pyarrow.parquet as pq
import pytest
import yaml

from annotation_export.export import export_workspace
from annotation_export.ingest import ingest_workspace
from annotation_export.params import ExportParams, IngestParams
from annotation_export.tool_configs import LMMS_TASK, LMMS_UTILS
from blindpairs.schemas import MMVP_COLUMNS
from blindpairs.workspace import Workspace

from .files import annotation, result


class TaskLoader(yaml.SafeLoader):
    """YAML with lmms-eval's ``!function module.name`` tag (kept as a string)."""


TaskLoader.add_constructor("!function", lambda loader, node: f"!function {node.value}")


@pytest.fixture
def published(ws: Workspace, ls_export, tmp_path: Path) -> Workspace:
    export_workspace(ws, ExportParams(budget=3))
    export = ls_export(
        {
            "p000": [annotation(result(option_a="Open", option_b="Closed"))],
            "p001": [annotation(result(option_b="None"))],  # NaN in pandas
            "p002": [annotation(result(option_a="a pool (empty)"))],  # breaks lmms-eval
        }
    )
    source = tmp_path / "export.json"
    source.write_text(json.dumps(export))
    ingest_workspace(ws, IngestParams(annotations=str(source)), source)
    return ws


def _utils(folder: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(LMMS_UTILS, folder / f"{LMMS_UTILS}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_options_other_tools_cannot_read_are_refused_with_the_reason(published: Workspace):
    report = json.loads((published.root / "annotation" / "ingest_report.json").read_text())
    reasons = {e["pair_id"]: e["reason"] for e in report["invalid"]}
    assert "NaN" in reasons["p001"] and "VLMEvalKit" in reasons["p001"]
    assert "parenthesis" in reasons["p002"] and "lmms-eval" in reasons["p002"]
    assert pq.read_table(published.benchmark / "benchmark.parquet").num_rows == 2


def test_datasets_loads_an_image_feature(published: Workspace) -> None:
    from datasets import Image, load_dataset

    parquet = published.benchmark / "benchmark.parquet"
    ds = load_dataset("parquet", data_files=str(parquet))["train"]
    assert isinstance(ds.features["image"], Image)
    assert ds[0]["image"].size[0] > 0  # a PIL image
    assert set(MMVP_COLUMNS) <= set(ds.column_names)
    assert (ds[0]["Options"], ds[0]["Correct Answer"]) == ("(a) Open (b) Closed", "(a)")


def test_lmms_eval_task_is_valid_yaml_over_the_published_columns(published: Workspace) -> None:
    folder = published.benchmark / "lmms_eval"
    task = yaml.load((folder / f"{LMMS_TASK}.yaml").read_text(), Loader=TaskLoader)
    assert task["task"] == LMMS_TASK and task["dataset_path"] == "parquet"
    data_file = Path(task["dataset_kwargs"]["data_files"][task["test_split"]])
    assert data_file == (published.benchmark / "benchmark.parquet").resolve()
    assert data_file.is_file()
    assert task["generation_kwargs"]["max_new_tokens"] == 16
    # every !function names a function of the shipped utils module
    utils = _utils(folder)
    functions = [task[k] for k in ("doc_to_visual", "doc_to_text", "doc_to_target")]
    functions += [task["process_results"]] + [m["aggregation"] for m in task["metric_list"]]
    for ref in functions:
        module, name = ref.removeprefix("!function ").split(".")
        assert module == LMMS_UTILS and callable(getattr(utils, name))
    # ...and they work on the rows as datasets gives them
    from datasets import load_dataset

    docs = list(load_dataset("parquet", data_files=str(data_file))["train"])
    kwargs = task["lmms_eval_specific_kwargs"]["default"]
    assert utils.doc_to_text(docs[0], kwargs) == (
        f"{docs[0]['Question']}\nA. Open\nB. Closed\n"
        "Answer with the option's letter from the given choices directly."
    )
    assert utils.doc_to_visual(docs[0])[0].mode == "RGB"
    replies = {1: "A", 2: "B"}  # both right: one pair, right
    results = [utils.process_results(d, [replies[d["Index"]]])["mmvp_pair_accuracy"] for d in docs]
    assert utils.aggregate_pair_accuracy(results) == 1.0
    assert utils.aggregate_accuracy(results) == 1.0
    wrong = [{**results[0], "is_correct": False}, results[1]]
    assert utils.aggregate_pair_accuracy(wrong) == 0.0


def test_vlmevalkit_note_and_config(published: Workspace) -> None:
    folder = published.benchmark / "vlmevalkit"
    config = json.loads((folder / "config.json").read_text())
    ((name, data),) = config["data"].items()
    assert data == {"class": "CustomMCQDataset", "dataset": name}
    note = (folder / "README.md").read_text()
    assert f"$LMUData/{name}.tsv" in note and "--scoring vlmevalkit" in note
