"""A real Dask scheduler and workers as subprocesses for the cluster tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
# what a nanny would set in its worker's environment (distributed's pre-spawn-environ)
NANNY_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without a scheduler address, progress bars off, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    env.update(BLINDPAIRS_QUIET="1", **extra)
    return env


def stop(proc: subprocess.Popen) -> None:
    """Terminate ``proc`` (kill it if it does not exit within 10 s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def log_tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


@dataclass
class Cluster:
    """A running scheduler and its workers (names -> processes)."""

    address: str
    scheduler_file: Path
    folder: Path
    scheduler: subprocess.Popen
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start_worker(self, name: str) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("w")
        proc = subprocess.Popen(
            [
                str(BIN / "dask"),
                "worker",
                "--scheduler-file",
                str(self.scheduler_file),
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
                "--name",
                name,
                "--local-directory",
                str(self.folder / name),
                "--death-timeout",
                "30",
            ],
            cwd=REPO,
            env=clean_env(**NANNY_ENV),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.workers[name] = proc
        return proc

    def kill_worker(self, name: str) -> None:
        """SIGKILL one worker process: no goodbye to the scheduler."""
        proc = self.workers[name]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout="30s") as client:
            client.wait_for_workers(n, timeout=START_TIMEOUT_S)

    def live_workers(self) -> list[str]:
        """Names of the workers the scheduler knows now."""
        from distributed import Client

        with Client(self.address, timeout="30s") as client:
            info = client.scheduler_info(n_workers=-1)["workers"].values()
            return sorted(w["name"] for w in info)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{log_tail(p)}" for p in sorted(self.folder.glob("*.log")))


def start_scheduler(folder: Path) -> tuple[subprocess.Popen, Path, str]:
    sfile = folder / "scheduler.json"
    log = (folder / "scheduler.log").open("w")
    proc = subprocess.Popen(
        [
            str(BIN / "dask"),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--scheduler-file",
            str(sfile),
            "--no-dashboard",
            "--idle-timeout",
            "300",  # gone on its own should a teardown ever be skipped
        ],
        cwd=folder,
        env=clean_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dask scheduler exited:\n{log_tail(folder / 'scheduler.log')}")
        if sfile.exists():
            try:
                return proc, sfile, json.loads(sfile.read_text())["address"]
            except (json.JSONDecodeError, KeyError):
                pass  # being written
        time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"dask scheduler did not start:\n{log_tail(folder / 'scheduler.log')}")
