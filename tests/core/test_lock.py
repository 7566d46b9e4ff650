"""The workspace lock, raced by two real processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from blindpairs import lock
from blindpairs.errors import WorkspaceError
from tests.evaluation.helpers import (
    SECRET,
    FakeChatServer,
    make_items,
    server_args,
    write_benchmark,
)

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "TEST_LLM_KEY": SECRET}


def blindpairs(*argv: str, **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "blindpairs", *argv],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


class GatedServer(FakeChatServer):
    """Answers only once ``gate`` is set; counts the requests it received."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.received = threading.Semaphore(0)

    def handle(self, h: Any, payload: dict[str, Any]) -> None:
        self.received.release()
        self.gate.wait(120)
        super().handle(h, payload)


def test_second_evaluate_fails_fast_naming_the_holder_and_nothing_is_paid_twice(
    tmp_path: Path,
) -> None:
    ws = tmp_path / "ws"
    write_benchmark(ws / "benchmark", make_items(4))
    with GatedServer() as server:
        argv = ["evaluate", "-w", str(ws), "-q", "--models", "openai:m", *server_args(server)]
        argv += ["--timeout-s", "120", "--max-retries", "0"]
        first = subprocess.Popen(
            [sys.executable, "-m", "blindpairs", *argv],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.received.acquire(timeout=120), first.communicate()
            second = blindpairs(*argv)  # while the first waits for its answers
        finally:
            server.gate.set()
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert second.returncode == 2
    message = second.stderr
    assert f"pid {first.pid}" in message and socket.gethostname() in message
    assert "evaluate" in message and "in use" in message
    # every question was asked exactly once: the second run never paid
    assert len(server.attempts) == 8 and set(server.attempts.values()) == {1}
    # once the first is done, the same command runs (and finds everything up to date)
    again = blindpairs(*argv)
    assert again.returncode == 0 and "up to date" in again.stdout
    assert set(server.attempts.values()) == {1}
    assert not (ws / lock.HOLDER_FILE).exists()


def test_lock_is_reentrant_in_a_process_and_busy_for_another(tmp_path: Path) -> None:
    with lock.workspace_lock(tmp_path, "outer"), lock.workspace_lock(tmp_path, "inner"):
        assert lock.holds(tmp_path / "tiles" / "x")
        assert lock.holder(tmp_path)["command"] == "outer"
        probe = (
            "import sys; from blindpairs import lock\n"
            "try:\n    lock.acquire(sys.argv[1])\nexcept lock.WorkspaceBusy as e:\n"
            "    print(e); sys.exit(3)\n"
        )
        other = subprocess.run(
            [sys.executable, "-c", probe, str(tmp_path)], env=ENV, capture_output=True, text=True
        )
        assert other.returncode == 3 and f"pid {os.getpid()}" in other.stdout
        assert "outer" in other.stdout
    assert not lock.holds(tmp_path)
    lock.acquire(tmp_path)  # free again
    lock.release(tmp_path)
    assert issubclass(lock.WorkspaceBusy, WorkspaceError)


@pytest.mark.slow
def test_tile_racing_tile_loses_no_part(tmp_path: Path) -> None:
    scenes = tmp_path / "scenes"
    assert blindpairs("example-scenes", str(scenes)).returncode == 0
    every = sorted(scenes.glob("*.tif"))
    ws = tmp_path / "ws"
    common = ["-w", str(ws), "-q", "--workers", "1", "--size", "64"]
    first = subprocess.Popen(
        [sys.executable, "-m", "tests.core.paused_cli", "tile", *map(str, every), *common],
        env=ENV,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = first.stdout.readline()
        assert line.startswith("paused "), first.communicate()
        temporary = Path(line.split(" ", 1)[1].strip())
        second = blindpairs("tile", str(every[0]), *common)
        assert second.returncode == 2 and f"pid {first.pid}" in second.stderr
        assert temporary.exists()  # the second run never touched the first's files
    finally:
        out, err = first.communicate("\n", timeout=300)
    assert first.returncode == 0, err
    parts = sorted(p.name for p in (ws / "tiles").glob("part-*.parquet"))
    assert len(parts) == len(every)
    again = blindpairs("tile", str(every[0]), *common)
    assert again.returncode == 0 and "1 unchanged" in again.stdout
    assert sorted(p.name for p in (ws / "tiles").glob("part-*.parquet")) == parts


HOLD = "import sys; from blindpairs import lock; lock.acquire(sys.argv[1], 'holder'); "
HOLD += "print('held', flush=True); sys.stdin.readline()"


@pytest.mark.parametrize(
    "argv",
    [
        ["tile", "scene.tif"],
        ["embed", "--encoders", "tiny"],
        ["mine", "--encoders", "tiny"],
        ["export"],
        ["ingest", "--annotations", "export.json"],
        ["evaluate", "--models", "random"],
        ["report"],
    ],
    ids=lambda argv: argv[0],
)
def test_every_stage_fails_fast_while_another_process_holds_the_workspace(
    tmp_path: Path, capsys, argv: list[str]
) -> None:
    from blindpairs.cli import main

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)],
        env=ENV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        before = sorted(p.name for p in tmp_path.iterdir())
        assert main([*argv, "-w", str(tmp_path), "-q"]) == 2
        err = capsys.readouterr().err
        assert f"pid {holder.pid}" in err and "holder" in err and "in use" in err
        assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing touched
    finally:
        holder.communicate("\n")
