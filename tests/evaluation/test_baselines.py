"""The evaluate command end to end with the offline backends: random, clip, predictions, hf."""

from __future__ import annotations

import csv
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import yaml

from blindpairs.cli import main
from tests.evaluation.helpers import make_items, write_benchmark


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def scores(ws: Path, run: str) -> dict:
    return json.loads((ws / "evaluation" / run / "scores.json").read_text())


def test_random_baseline_is_seeded_and_scored(workspace: Path, capsys) -> None:
    assert main(["evaluate", "-w", str(workspace), "-q", "--models", "random"]) == 0
    first = read_jsonl(workspace / "evaluation" / "random" / "responses.jsonl")
    assert [r["index"] for r in first] == list(range(1, 13))
    s = scores(workspace, "random")
    right = {r["index"]: r["correct"] for r in first}
    pairs = sum(right[2 * k - 1] and right[2 * k] for k in range(1, 7))
    assert s["pair_accuracy"]["correct"] == pairs and s["pairs"] == 6
    assert s["question_accuracy"]["correct"] == sum(right.values())
    assert s["unparsed"] == 0 and s["complete"] is True
    # a second run with the same inputs has nothing to do
    assert main(["evaluate", "-w", str(workspace), "-q", "--models", "random"]) == 0
    assert "12 skipped as up to date" in capsys.readouterr().out
    # another seed is another run with other answers (on enough questions)
    assert main(["evaluate", "-w", str(workspace), "-q", "--models", "random", "--seed", "3"]) == 0
    assert (workspace / "evaluation" / "random-seed3" / "scores.json").exists()
    recorded = yaml.safe_load((workspace / "config.yaml").read_text())
    assert recorded["evaluate"]["seed"] == 3 and recorded["evaluate"]["models"] == ["random"]


def test_random_baseline_near_chance_on_a_larger_benchmark(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(200))
    assert main(["evaluate", "-w", str(ws), "-q", "--models", "random"]) == 0
    s = scores(ws, "random")
    low, high = s["pair_accuracy"]["ci95"]
    assert low < 0.25 < high  # 25% expected
    assert 0.4 < s["question_accuracy"]["accuracy"] < 0.6


def test_predictions_leaderboard_and_swap(workspace: Path, tmp_path: Path) -> None:
    preds = tmp_path / "answers.csv"
    with open(preds, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["index", "variant", "response"])
        for r in make_items(6):
            bright = r["answer"] == "a"
            w.writerow([r["index"], "original", "yes" if bright else "no"])
            # swapped: right for all but index 1 (always says "(a)")
            w.writerow(
                [r["index"], "swapped", "(a)" if r["index"] == 1 else ("yes" if bright else "no")]
            )
    argv = ["evaluate", "-w", str(workspace), "-q", "--models", f"predictions:{preds},random"]
    assert main([*argv, "--swap-options"]) == 0
    s = scores(workspace, "predictions-answers")
    # the headline stays MMVP's (options as given); both orders in their own keys
    assert s["question_accuracy"]["correct"] == 12 and s["pair_accuracy"]["correct"] == 6
    assert s["question_accuracy_both_orders"]["correct"] == 11
    assert s["pair_accuracy_both_orders"]["correct"] == 5
    assert s["swap_consistency"]["agree"] == 11
    board = (workspace / "evaluation" / "leaderboard.csv").read_text()
    rows = list(csv.DictReader(board.splitlines()))
    assert [r["run"] for r in rows][0] == "predictions-answers"
    assert {r["run"] for r in rows} == {"predictions-answers", "random"}
    md = (workspace / "evaluation" / "leaderboard.md").read_text()
    assert "predictions-answers" in md and "swap" in md


class FakeClip:
    """Image embedding = brightness direction; texts mentioning 'yes' point at bright."""

    random_weights = False

    def encode_images(self, images):
        v = [np.asarray(im, dtype=np.float32).mean() / 255 for im in images]
        return np.array([[x, 1 - x] for x in v], dtype=np.float32)

    def encode_texts(self, texts):
        return np.array([[1.0, 0.0] if t.endswith("yes") else [0.0, 1.0] for t in texts])


def test_clip_baseline_with_a_fake_encoder(workspace: Path, monkeypatch) -> None:
    registry = types.ModuleType("embeddings.registry")
    registry.create_encoder = lambda encoder_id, device=None: FakeClip()
    monkeypatch.setitem(sys.modules, "embeddings.registry", registry)
    assert main(["evaluate", "-w", str(workspace), "-q", "--models", "clip:fake"]) == 0
    s = scores(workspace, "clip_fake")
    assert s["pair_accuracy"]["accuracy"] == 1.0 and s["random_weights"] is False
    rows = read_jsonl(workspace / "evaluation" / "clip_fake" / "responses.jsonl")
    assert all(len(r["extra"]["similarities"]) == 2 for r in rows)


def test_clip_baseline_with_the_tiny_random_clip(workspace: Path) -> None:
    pytest.importorskip("open_clip")
    assert (
        main(
            [
                "evaluate",
                "-w",
                str(workspace),
                "-q",
                "--models",
                "clip:clip-tiny-random",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    s = scores(workspace, "clip_clip-tiny-random")
    assert s["random_weights"] is True and s["complete"] is True and s["unparsed"] == 0
    assert "random weights" in (workspace / "evaluation" / "leaderboard.md").read_text()


def test_hf_backend_without_transformers_says_how_to_install(
    workspace: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)  # import fails as if not installed
    rc = main(["evaluate", "-w", str(workspace), "-q", "--models", "hf:Qwen/Qwen2-VL-2B-Instruct"])
    err = capsys.readouterr().err
    assert rc == 2 and "pip install" in err and "transformers" in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ([], "no model given"),
        (["--models", "gpt4"], "unknown model 'gpt4'"),
        (["--models", "openai:"], "needs an argument"),
        (["--models", "random", "--concurrency", "0"], "concurrency"),
        (["--models", "random", "--api-key-env", "sk-abc def"], "environment variable name"),
        (["--models", "random,random"], "twice"),
        (["--models", "random", "--judge", "random"], "judge must be an openai"),
        (["--models", "clip:x", "--clip-text", "{question}"], "must contain {option}"),
    ],
)
def test_bad_configuration_fails_fast(workspace: Path, capsys, flags, message) -> None:
    assert main(["evaluate", "-w", str(workspace), "-q", *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (workspace / "evaluation").exists()


def test_letter_prompt_and_limit(workspace: Path, tmp_path: Path) -> None:
    preds = tmp_path / "p.jsonl"
    preds.write_text(
        "".join(
            json.dumps({"index": r["index"], "response": r["answer"].upper()}) + "\n"
            for r in make_items(6)[:4]
        )
    )
    argv = [
        "evaluate",
        "-w",
        str(workspace),
        "-q",
        "--models",
        f"predictions:{preds}",
        "--prompt",
        "letter-v1",
        "--limit",
        "4",
    ]
    assert main(argv) == 0
    s = scores(workspace, "predictions-p")
    assert s["questions"] == 4 and s["pair_accuracy"]["correct"] == 2
    assert s["prompt_version"] == "letter-v1"
    rows = read_jsonl(workspace / "evaluation" / "predictions-p" / "responses.jsonl")
    assert rows[0]["prompt"].endswith("directly.") and rows[0]["parse_rule"] == "bare"


def test_missing_benchmark_says_what_to_run(tmp_path: Path, capsys) -> None:
    assert main(["evaluate", "-w", str(tmp_path / "ws"), "-q", "--models", "random"]) == 2
    assert "run ingest" in capsys.readouterr().err
