"""The openai backend against a real HTTP server on loopback that injects faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blindpairs.cli import main
from tests.evaluation.helpers import (
    ALWAYS_500,
    ECHO_KEY,
    ERROR_TWICE,
    MALFORMED_ONCE,
    RATE_LIMIT_ONCE,
    SECRET,
    TIMEOUT_ONCE,
    UNPARSEABLE,
    FakeChatServer,
    make_items,
    question_id,
    server_args,
    write_benchmark,
)

FAULTS = {
    1: RATE_LIMIT_ONCE,
    2: ERROR_TWICE,
    3: TIMEOUT_ONCE,
    4: UNPARSEABLE,
    5: ALWAYS_500,
    6: MALFORMED_ONCE,
    7: ECHO_KEY,
}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def every_file_text(root: Path) -> str:
    return "".join(
        p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file()
    )


def test_faults_end_answered_or_failed_once_and_no_key_leaks(
    tmp_path: Path, chat_server: FakeChatServer, capsys, caplog
) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(5, FAULTS))
    argv = ["evaluate", "-w", str(ws), "-q", "-vv", "--models", "openai:fake-vlm"]
    rc = main([*argv, *server_args(chat_server)])
    assert rc == 1  # two questions failed after retries: documented exit code 1
    first = capsys.readouterr()
    summary = first.out.splitlines()[-1]
    assert "10 question(s) done" not in summary and "2 failed after retries" in summary
    assert "8 question(s) done" in summary
    out_dir = ws / "evaluation" / "openai_fake-vlm"
    rows = read_jsonl(out_dir / "responses.jsonl")
    assert sorted(r["index"] for r in rows) == list(range(1, 11))  # each question once
    by_index = {r["index"]: r for r in rows}
    # permanent failures are recorded with their reason, not dropped
    assert by_index[5]["error"] and "500" in by_index[5]["error"]
    assert by_index[7]["error"] and "400" in by_index[7]["error"]
    assert by_index[5]["response"] is None and by_index[5]["correct"] is False
    # transient faults were retried until answered, and answered right
    for i in (1, 2, 3, 6, 8, 9, 10):
        assert by_index[i]["error"] is None and by_index[i]["correct"] is True, by_index[i]
    assert by_index[2]["attempts"] == 3
    assert by_index[4]["parsed"] is None and by_index[4]["correct"] is False
    # the server answered every question at most once
    assert max(chat_server.successes.values()) == 1
    scores = json.loads((out_dir / "scores.json").read_text())
    assert scores["failed"] == 2 and scores["unparsed"] == 1 and scores["complete"] is False
    assert scores["question_accuracy"]["correct"] == 7
    # the key is nowhere: files, stdout/stderr, logs
    captured = capsys.readouterr()
    assert SECRET not in every_file_text(ws)
    assert SECRET not in first.out + first.err + captured.out + captured.err + caplog.text
    assert "***" in by_index[7]["error"]  # the echoed key was redacted

    # a re-run pays only for what failed, and still holds each question once
    before = sum(chat_server.successes.values())
    assert main([*argv, *server_args(chat_server)]) == 1
    assert sum(chat_server.successes.values()) == before
    assert sorted(r["index"] for r in read_jsonl(out_dir / "responses.jsonl")) == list(range(1, 11))
    cache_keys = [r["key"] for r in read_jsonl(out_dir / "cache.jsonl")]
    # one record per distinct question answered (identical questions share one answer)
    assert len(cache_keys) == len(set(cache_keys)) == len(chat_server.successes)


def test_cache_survives_a_killed_run(tmp_path: Path, monkeypatch) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(10))
    monkeypatch.setenv("TEST_LLM_KEY", SECRET)
    with FakeChatServer(delay_s=0.05) as server:
        argv = [
            "evaluate",
            "-w",
            str(ws),
            "-q",
            "--models",
            "openai:fake-vlm",
            *server_args(server, "--concurrency", "2"),
        ]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        proc = subprocess.Popen(
            [sys.executable, "-m", "blindpairs", *argv],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        cache = ws / "evaluation" / "openai_fake-vlm" / "cache.jsonl"

        def cached_lines() -> int:  # answers fsynced so far (a slow fsync lags the server)
            return cache.read_bytes().count(b"\n") if cache.exists() else 0

        deadline = time.monotonic() + 60
        while (sum(server.successes.values()) < 6 or not cached_lines()) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not (cache.parent / "scores.json").exists()
        records = [json.loads(line) for line in cache.read_text().splitlines()]
        cached = {question_id(r["prompt"], r["image_sha256"]) for r in records}
        assert 0 < len(cached) < 20
        with open(cache, "a") as fh:  # as if the kill tore the last line in half
            fh.write('{"key": "abc", "resp')
        attempts_before = dict(server.attempts)
        assert main(argv) == 0
        rows = read_jsonl(cache.parent / "responses.jsonl")
        assert sorted(r["index"] for r in rows) == list(range(1, 21))
        assert all(r["correct"] for r in rows)
        assert sum(r["cached"] for r in rows) == len(cached)
        # the re-run asked once for each question not cached, and never for a cached one
        for ident in server.attempts:
            asked_again = server.attempts[ident] - attempts_before.get(ident, 0)
            assert asked_again == (0 if ident in cached else 1)
        assert len(server.attempts) == 20
        lines = cache.read_text().splitlines()
        keys = [json.loads(x)["key"] for x in lines if x.endswith("}")]
        assert len(keys) == len(set(keys)) == 20


def test_refused_key_stops_with_a_clear_error(tmp_path: Path, monkeypatch, capsys) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(2))
    monkeypatch.setenv("TEST_LLM_KEY", SECRET)
    with FakeChatServer(key="another-key") as server:
        rc = main(["evaluate", "-w", str(ws), "-q", "--models", "openai:m", *server_args(server)])
    captured = capsys.readouterr()
    assert rc == 1
    assert "401" in captured.out + captured.err
    assert SECRET not in captured.out + captured.err + every_file_text(ws)


def test_missing_key_for_openai_fails_fast(tmp_path: Path, monkeypatch, capsys) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(1))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    rc = main(["evaluate", "-w", str(ws), "-q", "--models", "openai:gpt-4o"])
    assert rc == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err
    assert not (ws / "evaluation" / "openai_gpt-4o").exists()


@pytest.mark.parametrize("mode", ["unparsed", "all"])
def test_llm_judge_grades_through_the_openai_backend(
    tmp_path: Path, chat_server: FakeChatServer, mode: str
) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(2, {1: UNPARSEABLE}))
    argv = [
        "evaluate",
        "-w",
        str(ws),
        "-q",
        "--models",
        "openai:m",
        "--judge",
        "openai:judge",
        "--judge-mode",
        mode,
        *server_args(chat_server),
    ]
    assert main(argv) == 0
    rows = {r["index"]: r for r in read_jsonl(ws / "evaluation" / "openai_m" / "responses.jsonl")}
    # items 2 and 3 get the same judge question (same prompt, answer and reply): asked once
    assert chat_server.judge_requests == (1 if mode == "unparsed" else 3)
    assert rows[1]["judge_verdict"] is False and rows[1]["correct"] is False
    if mode == "all":
        assert all(rows[i]["judge_verdict"] is True and rows[i]["correct"] for i in (2, 3, 4))
    # judge answers are cached too
    assert main([*argv, "--force"]) == 0
    assert chat_server.judge_requests == (1 if mode == "unparsed" else 3)
