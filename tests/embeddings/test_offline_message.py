"""Offline without weights: one clear error, no Dask "Compute Failed" tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys


def test_offline_embed_error_is_clean_and_names_the_tiny_encoders(tmp_path, scene_writer):
    scene_writer("s1", 3)
    workspace = tmp_path / "ws"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    env.pop("HF_HUB_CACHE", None)
    run = subprocess.run(
        [sys.executable, "-m", "blindpairs", "embed", "-w", str(workspace), "-q",
         "--encoders", "small", "--workers", "2"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "Compute Failed" not in run.stderr and "Traceback" not in run.stderr
    assert "cannot load weights of encoder" in run.stderr
    assert "--encoders tiny" in run.stderr
