"""Two model ids with one default result folder never overwrite each other's results."""

from __future__ import annotations

import json
from pathlib import Path

from blindpairs.cli import main
from evaluation.backends import default_run_name
from evaluation.params import EvaluateParams
from tests.evaluation.helpers import make_items


def _predictions(path: Path, right: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for r in make_items(6):
        bright = r["answer"] == "a"
        lines.append(
            json.dumps({"index": r["index"], "response": "yes" if bright == right else "no"})
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def _evaluate(workspace: Path, *argv: str) -> int:
    return main(["evaluate", "-w", str(workspace), "-q", "--models", *argv])


def test_default_folders_are_the_same_for_colliding_ids() -> None:
    params = EvaluateParams()
    pair = ("predictions:pa/answers.jsonl", "predictions:pb/answers.jsonl")
    assert len({default_run_name(m, params) for m in pair}) == 1
    assert default_run_name("openai:org/m", params) == default_run_name("openai:org_m", params)


def test_another_model_in_a_default_folder_is_refused(workspace, tmp_path, capsys) -> None:
    pa = _predictions(tmp_path / "pa" / "answers.jsonl", right=True)
    pb = _predictions(tmp_path / "pb" / "answers.jsonl", right=False)
    assert _evaluate(workspace, f"predictions:{pa}") == 0
    scores = workspace / "evaluation" / "predictions-answers" / "scores.json"
    before = scores.read_bytes()
    capsys.readouterr()
    assert _evaluate(workspace, f"predictions:{pb}") == 2
    err = capsys.readouterr().err
    assert "--run-name" in err and f"predictions:{pa}" in err
    assert scores.read_bytes() == before  # pa's results untouched
    assert _evaluate(workspace, f"predictions:{pb}", "--run-name", "pb") == 0
    assert json.loads((workspace / "evaluation" / "pb" / "scores.json").read_text())["model"] == (
        f"predictions:{pb}"
    )
    assert _evaluate(workspace, f"predictions:{pa}") == 0  # its own folder: fine (up to date)
    assert scores.read_bytes() == before


def test_a_folder_made_before_the_marker_is_told_by_its_scores(workspace, tmp_path) -> None:
    pa = _predictions(tmp_path / "pa" / "answers.jsonl", right=True)
    pb = _predictions(tmp_path / "pb" / "answers.jsonl", right=False)
    assert _evaluate(workspace, f"predictions:{pa}") == 0
    (workspace / "evaluation" / "predictions-answers" / "model.json").unlink()  # an older run
    assert _evaluate(workspace, f"predictions:{pb}") == 2
    assert _evaluate(workspace, f"predictions:{pa}") == 0  # the folder keeps its name


def test_two_models_of_one_run_sharing_a_folder_are_refused(workspace, tmp_path, capsys):
    pa = _predictions(tmp_path / "pa" / "answers.jsonl", right=True)
    pb = _predictions(tmp_path / "pb" / "answers.jsonl", right=False)
    assert _evaluate(workspace, f"predictions:{pa},predictions:{pb}") == 2
    assert "--run-name" in capsys.readouterr().err
    assert not (workspace / "evaluation" / "predictions-answers").exists()
