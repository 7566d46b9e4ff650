"""Start a real Label Studio server (from its own venv) on loopback for the tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REQUIRE_ENV = "BLINDPAIRS_REQUIRE_LABEL_STUDIO"
TOKEN = "blindpairs-test-token-0123456789"
START_TIMEOUT_S = 240


@dataclass(frozen=True)
class Server:
    """A running Label Studio: its URL, API token and local-files document root."""

    url: str
    token: str
    document_root: Path


def find_binary() -> str | None:
    """``label-studio`` from $LABEL_STUDIO_BIN, the separate venv, or PATH."""
    candidates = [os.environ.get("LABEL_STUDIO_BIN")]
    venv = os.environ.get("LABEL_STUDIO_VENV") or str(REPO / ".venv-labelstudio")
    candidates.append(str(Path(venv) / "bin" / "label-studio"))
    candidates.append(shutil.which("label-studio"))
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start(tmp: Path) -> tuple[subprocess.Popen, Server]:
    """Start the server with a fresh data folder; skip (or fail in CI) without the binary."""
    binary = find_binary()
    if binary is None:
        message = "label-studio not installed; run scripts/label_studio_env.sh"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{message} ({REQUIRE_ENV}=1)")
        pytest.skip(message)
    data, root = tmp / "ls-data", tmp / "root"
    data.mkdir()
    root.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")}
    env.update(
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
        LOCAL_FILES_SERVING_ENABLED="true",
        LOCAL_FILES_DOCUMENT_ROOT=str(root),
        LABEL_STUDIO_BASE_DATA_DIR=str(data),
    )
    cmd = [
        binary, "start", "--no-browser", "--internal-host", "127.0.0.1", "-p", str(port),
        "--data-dir", str(data), "--username", "annotator@example.com",
        "--password", "blindpairs-test", "--user-token", TOKEN, "--enable-legacy-api-token",
    ]  # fmt: skip
    log = open(tmp / "label-studio.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            tail = (tmp / "label-studio.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"label-studio did not start on {url}:\n{tail}")
        time.sleep(1)
    return proc, Server(url, TOKEN, root)


def stop(proc: subprocess.Popen) -> None:
    """Stop the server's process group (only the one this module started)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
