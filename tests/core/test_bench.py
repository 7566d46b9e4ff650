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


def _bench_mine(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench.mine", "--dims", "768", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )


def test_bench_mine_runs_a_small_ivf_case_end_to_end() -> None:
    done = _bench_mine("--sizes", "3000", "--exact-max", "1000", "--recall-sample", "200")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    mine = next(r for r in rows if r[:3] == ["768", "3000", "mine"])
    numpy = next(r for r in rows if r[:3] == ["768", "3000", "numpy"])
    assert mine[3] == "ivf" and float(mine[7]) >= 0.99  # recall against the baseline
    assert int(mine[9]) == int(numpy[9])  # the same blind pairs as brute force
    assert "seconds in steps of the stage" in done.stdout


def test_bench_mine_exits_1_when_a_case_fails() -> None:
    done = _bench_mine("--sizes", "3000", "--part-size", "0")
    assert done.returncode == 1
    assert "mine failed" in done.stdout
