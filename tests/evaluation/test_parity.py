"""Issue 11: pair integrity, headline numbers, leaderboard groups, token caps, MMVP's judge."""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path

import pytest

from blindpairs.cli import main
from blindpairs.errors import InputError
from evaluation.judge import PROTOCOLS, read_verdict
from evaluation.loaders import load_benchmark
from tests.evaluation.helpers import (
    ALWAYS_500,
    FakeChatServer,
    make_items,
    server_args,
    write_benchmark,
)


def scores(ws: Path, run: str) -> dict:
    return json.loads((ws / "evaluation" / run / "scores.json").read_text())


def board(ws: Path) -> list[dict[str, str]]:
    text = (ws / "evaluation" / "leaderboard.csv").read_text()
    return list(csv.DictReader(text.splitlines()))


def write_tsv(path: Path, rows: list[dict], shift: int = 0, with_pair_id: bool = False) -> Path:
    """A VLMEvalKit-style TSV; ``shift`` -1 numbers the items from 0."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t")
        header = ["index", "image", "question", "A", "B", "answer"]
        w.writerow(header + (["pair_id"] if with_pair_id else []))
        for r in rows:
            cells = [r["index"] + shift, base64.b64encode(r["image"]).decode(), r["question"]]
            cells += [r["option_a"], r["option_b"], r["answer"].upper()]
            w.writerow(cells + ([r["pair_id"]] if with_pair_id else []))
    return path


def distinct_questions(rows: list[dict]) -> list[dict]:
    """Give each pair its own question, as in MMVP, so foreign files can be checked."""
    return [{**r, "question": f"Is scene {r['pair_id']} bright?"} for r in rows]


def test_a_zero_based_tsv_is_paired_from_zero(tmp_path: Path) -> None:
    rows = distinct_questions(make_items(6))
    tsv = write_tsv(tmp_path / "zero.tsv", rows, shift=-1)
    bench = load_benchmark(tsv)
    assert bench.index_base == 0 and [it.index for it in bench.items][:2] == [0, 1]
    # right everywhere except the second item of pair 1 and the first of pair 2 (0-based 1, 2):
    # MMVP pairs (0,1) and (2,3) are wrong, 4 of 6 right; 1-based pairing would say otherwise
    preds = tmp_path / "answers.csv"
    with open(preds, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["index", "response"])
        for it in bench.items:
            right = it.answer if it.index not in (1, 2) else ("b" if it.answer == "a" else "a")
            w.writerow([it.index, f"({right})"])
    ws = tmp_path / "ws"
    argv = ["evaluate", "-w", str(ws), "-q", "--benchmark", str(tsv), "--models"]
    assert main([*argv, f"predictions:{preds}"]) == 0
    s = scores(ws, "predictions-answers")
    assert s["index_base"] == 0
    assert (s["pair_accuracy"]["correct"], s["pair_accuracy"]["total"]) == (4, 6)


@pytest.mark.parametrize("with_pair_id", [True, False])
def test_items_that_are_not_pairs_fail_naming_them(tmp_path: Path, with_pair_id: bool) -> None:
    rows = distinct_questions(make_items(4))
    rows[1], rows[2] = rows[2], rows[1]  # pair 1's second item and pair 2's first swap places
    for i, r in enumerate(rows, start=1):
        r["index"] = i
    tsv = write_tsv(tmp_path / "mixed.tsv", rows, with_pair_id=with_pair_id)
    with pytest.raises(InputError, match="not in MMVP pairs") as err:
        load_benchmark(tsv)
    assert "items 1 and 2" in str(err.value) and str(tsv) in str(err.value)


def test_scores_record_profile_limit_benchmark_and_random_weights(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    folder = write_benchmark(ws / "benchmark", make_items(6))
    import pyarrow.parquet as pq

    table = pq.read_table(folder / "benchmark.parquet")
    meta = {b"blindpairs": json.dumps({"random_weights": True}).encode()}
    pq.write_table(table.replace_schema_metadata(meta), folder / "benchmark.parquet")
    base = ["evaluate", "-w", str(ws), "-q", "--models", "random"]
    assert main([*base, "--scoring", "lmms-eval", "--prompt", "letter-v1"]) == 0
    assert main([*base, "--limit", "4", "--run-name", "random-first4"]) == 0
    s = scores(ws, "random")
    assert s["scoring"] == "lmms-eval" and s["parser_version"] == "lmms-eval-mmvp-v1"
    assert s["benchmark_random_weights"] is True and s["limit"] == 0
    rows = {r["run"]: r for r in board(ws)}
    assert rows["random"]["scoring"] == "lmms-eval" and rows["random"]["prompt_version"]
    assert rows["random"]["benchmark_random_weights"] == "True"
    # different subsets are never ranked together: each is first of its own group
    assert rows["random"]["rank"] == "1" and rows["random-first4"]["rank"] == "1"
    assert rows["random-first4"]["limit"] == "4"
    md = (ws / "evaluation" / "leaderboard.md").read_text()
    fingerprint = s["benchmark_fingerprint"]
    assert f"`{fingerprint}`, all items" in md and f"`{fingerprint}`, first 4 items" in md
    assert "random-weight encoders" in md


def test_runs_on_other_benchmarks_are_ranked_apart(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(6))
    other = write_benchmark(tmp_path / "other", make_items(8))
    assert main(["evaluate", "-w", str(ws), "-q", "--models", "random"]) == 0
    argv = ["evaluate", "-w", str(ws), "-q", "--benchmark", str(other), "--models", "random"]
    assert main([*argv, "--run-name", "random-other"]) == 0
    rows = board(ws)
    assert len({r["benchmark"] for r in rows}) == 2
    assert sorted(r["rank"] for r in rows) == ["1", "1"]


def test_swap_keeps_the_mmvp_headline_and_adds_its_own_column(workspace: Path) -> None:
    argv = ["evaluate", "-w", str(workspace), "-q", "--models", "random", "--swap-options"]
    assert main(argv) == 0
    s = scores(workspace, "random")
    row = board(workspace)[0]
    assert float(row["pair_accuracy"]) == pytest.approx(s["pair_accuracy"]["accuracy"])
    assert float(row["pair_accuracy_both_orders"]) == pytest.approx(
        s["pair_accuracy_both_orders"]["accuracy"]
    )
    assert "both orders" in (workspace / "evaluation" / "leaderboard.md").read_text()


def test_a_run_where_every_request_failed_exits_non_zero_and_is_not_ranked(
    tmp_path: Path, chat_server: FakeChatServer, capsys
) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(2, {i: ALWAYS_500 for i in range(1, 5)}))
    argv = ["evaluate", "-w", str(ws), "-q", "--models", "openai:m"]
    assert main([*argv, *server_args(chat_server, "--max-retries", "0")]) == 1
    out = capsys.readouterr().out
    assert "every request failed (4)" in out
    assert "0 question(s) done" in out and "4 failed after retries" in out  # counted in total
    assert main(["evaluate", "-w", str(ws), "-q", "--models", "random"]) == 0
    s = scores(ws, "openai_m")
    assert s["all_failed"] is True and s["answered"] == 0
    rows = {r["run"]: r for r in board(ws)}
    assert rows["openai_m"]["rank"] == "" and rows["openai_m"]["ranked"] == "False"
    assert rows["random"]["rank"] == "1"
    assert "not ranked" in (ws / "evaluation" / "leaderboard.md").read_text()


@pytest.mark.parametrize(
    ("model", "extra", "sent"),
    [
        ("fake-vlm", [], "max_tokens"),  # an ordinary chat model
        ("o3-mini", [], "max_completion_tokens"),  # a reasoning model, known by name
        ("reasoning-x", [], "max_completion_tokens"),  # unknown name: switches after a 400
        ("fake-vlm", ["--token-param", "max_completion_tokens"], "max_completion_tokens"),
    ],
)
def test_token_cap_works_for_both_kinds_of_model(
    tmp_path: Path, chat_server: FakeChatServer, model: str, extra: list[str], sent: str
) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(2))
    argv = ["evaluate", "-w", str(ws), "-q", "--models", f"openai:{model}", *extra]
    assert main([*argv, *server_args(chat_server)]) == 0
    s = scores(ws, f"openai_{model}")
    assert s["question_accuracy"]["correct"] == 4
    last = chat_server.payloads[-1]
    assert sent in last
    if sent == "max_completion_tokens":
        assert last[sent] == 4096 and "temperature" not in last and "max_tokens" not in last
    else:
        assert last["max_tokens"] == 256 and last["temperature"] == 0


def test_judge_protocol_mmvp_is_mmvps_grader(tmp_path: Path, chat_server: FakeChatServer) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(2))
    argv = ["evaluate", "-w", str(ws), "-q", "--models", "openai:m", "--judge", "openai:judge"]
    assert main([*argv, "--judge-protocol", "mmvp", *server_args(chat_server)]) == 0
    judge_payloads = [p for p in chat_server.payloads if p["model"] == "judge"]
    # every reply judged (distinct questions), at temperature 0.2, no token cap
    assert chat_server.judge_requests == len(judge_payloads) >= 2
    assert all(p["temperature"] == 0.2 and "max_tokens" not in p for p in judge_payloads)
    # the correct answer is passed as its letter, as MMVP's "Correct Answer" column
    assert all("the correct answer is (a)." in q or "the correct answer is (b)." in q
               for q in chat_server.judge_questions)  # fmt: skip
    s = scores(ws, "openai_m")
    assert s["judge_protocol"] == "mmvp" and s["judge_mode"] == "all"


@pytest.mark.parametrize("judge", ["o3-mini", "reasoning-judge"])
def test_a_reasoning_model_judges_without_the_temperature_it_rejects(
    tmp_path: Path, chat_server: FakeChatServer, judge: str
) -> None:
    """o3-mini is known by name; "reasoning-judge" answers HTTP 400 to a temperature and
    max_tokens, and the judge switches (as the models' backend does)."""
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(2))
    argv = ["evaluate", "-w", str(ws), "-q", "--models", "openai:m", "--judge", f"openai:{judge}"]
    assert main([*argv, "--judge-mode", "all", *server_args(chat_server)]) == 0
    judged = [p for p in chat_server.payloads if p["model"] == judge]
    capped = [p for p in judged if "max_completion_tokens" in p]
    assert capped and all(
        p["max_completion_tokens"] == 4096 and "temperature" not in p and "max_tokens" not in p
        for p in capped
    )
    # the requests before the switch (rejected; as many as were in flight at once)
    first = [p for p in judged if p not in capped]
    assert all(p["temperature"] == 0 and p["max_tokens"] == 5 for p in first)
    assert bool(first) == judge.startswith("reasoning")
    s = scores(ws, "openai_m")
    assert s["judge_sampling"].startswith("max_completion_tokens=4096, the model's own")
    text = (ws / "evaluation" / "openai_m" / "responses.jsonl").read_text()
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert rows and all(r["judge_error"] is None and r["judge_verdict"] is True for r in rows)


def test_an_ordinary_judge_is_asked_at_the_protocol_s_temperature(
    tmp_path: Path, chat_server: FakeChatServer
) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(2))
    argv = ["evaluate", "-w", str(ws), "-q", "--models", "openai:m", "--judge", "openai:judge"]
    assert main([*argv, "--judge-mode", "all", *server_args(chat_server)]) == 0
    judged = [p for p in chat_server.payloads if p["model"] == "judge"]
    assert judged and all(p["temperature"] == 0 and p["max_tokens"] == 5 for p in judged)
    assert scores(ws, "openai_m")["judge_sampling"] == "temperature=0, max_tokens=5"


def test_mmvp_protocol_accepts_only_a_bare_yes_or_no() -> None:
    mmvp, ours = PROTOCOLS["mmvp"], PROTOCOLS["blindpairs"]
    assert read_verdict("yes", mmvp) is True and read_verdict("No", mmvp) is False
    assert read_verdict("Yes.", mmvp) is None and read_verdict(" yes", mmvp) is None
    assert read_verdict("Yes.", ours) is True


def test_another_scoring_profile_rescores_cached_replies_without_asking_again(
    tmp_path: Path, chat_server: FakeChatServer
) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(2))
    argv = ["evaluate", "-w", str(ws), "-q", "--models", "openai:m", *server_args(chat_server)]
    assert main(argv) == 0
    asked = sum(chat_server.attempts.values())
    assert main([*argv, "--scoring", "vlmevalkit"]) == 0
    assert sum(chat_server.attempts.values()) == asked  # every reply came from the cache
    s = scores(ws, "openai_m")
    assert (s["scoring"], s["paid_questions"]) == ("vlmevalkit", 0)
    # the fake model answers "yes"/"no": whole-reply option text for blindpairs,
    # a substring for VLMEvalKit; lmms-eval has no option-text rule at all
    assert s["question_accuracy"]["correct"] == 4
    assert main([*argv, "--scoring", "lmms-eval"]) == 0
    assert scores(ws, "openai_m")["unparsed"] == 4


def test_help_documents_the_new_options(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as done:
        main(["evaluate", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--scoring", "--token-param", "--max-completion-tokens", "--judge-protocol"):
        assert flag in text
