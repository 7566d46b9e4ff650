"""The benchmarks are named by stage verb and run as ``python -m bench.<verb>``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from blindpairs import stages

REPO = Path(__file__).resolve().parents[2]
BENCHES = sorted(p for p in (REPO / "bench").glob("*.py") if p.name != "__init__.py")


def test_each_bench_is_named_by_a_stage_verb_and_leaves_sys_path_alone() -> None:
    verbs = {s.verb for s in stages.STAGES}
    assert BENCHES and {p.stem for p in BENCHES} <= verbs
    for path in BENCHES:
        assert "sys.path" not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize("verb", ["tile", "mine"])  # bench.embed imports torch: slower
def test_a_bench_starts_as_a_module(verb: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{verb}", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:")
