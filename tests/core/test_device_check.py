"""The GPU device check (scripts/device_check.sh, device_steps.py) runs, budgets and reports
without a GPU: its steps run here in the ``--cpu`` dry run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scripts import device_search, device_steps
from scripts.device_runner import Context, Step, StepSkipped, run_steps
from scripts.device_search import knn

REPO = Path(__file__).resolve().parents[2]
ORDER = [
    "env", "peak", "model-bfloat16", "model-float32", "stage", "model-resident",
    "torch-search", "faiss",
]  # fmt: skip


def _ctx(tmp_path: Path) -> Context:
    return Context(cpu=True, sizes=device_steps.CPU, work=tmp_path)


def _step(name: str, estimate: float, run: Any = None) -> Step:
    return Step(name, name, run or (lambda ctx: {"ran": name}), estimate, estimate)


class FakeClock:
    """A clock that moves only when a step moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _report(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_registry_holds_the_named_steps_and_selects_in_its_order() -> None:
    assert [s.name for s in device_steps.STEPS] == ORDER
    assert [s.name for s in device_steps.select("faiss, env")] == ["env", "faiss"]
    with pytest.raises(SystemExit, match="unknown step.*gpu-magic"):
        device_steps.select("env,gpu-magic")


def test_a_step_that_would_not_fit_the_budget_is_skipped_with_the_reason(tmp_path: Path) -> None:
    clock = FakeClock()

    def slow(ctx: Context) -> dict[str, Any]:
        clock.now += 70
        return {}

    steps = [_step("a", 60, slow), _step("b", 50), _step("c", 20)]
    doc = run_steps(steps, _ctx(tmp_path), 100, tmp_path / "r.json", clock=clock)
    assert [(s["name"], s["status"]) for s in doc["steps"]] == [
        ("a", "ok"),
        ("b", "skipped"),
        ("c", "ok"),
    ]
    assert doc["steps"][1]["reason"] == "needs about 50 s; 30 s of the 100 s left"
    assert _report(tmp_path / "r.json") == json.loads(json.dumps(doc))


def test_a_failing_step_is_recorded_and_the_next_one_runs(tmp_path: Path) -> None:
    def broken(ctx: Context) -> dict[str, Any]:
        raise RuntimeError("CUDA error: out of memory")

    def exits(ctx: Context) -> dict[str, Any]:
        sys.exit("could not read the embed summary")  # as bench.embed does

    def skips(ctx: Context) -> dict[str, Any]:
        raise StepSkipped("faiss is not installed")

    steps = [_step("a", 1, broken), _step("b", 1, exits), _step("c", 1, skips), _step("d", 1)]
    run_steps(steps, _ctx(tmp_path), 100, tmp_path / "r.json")
    doc = _report(tmp_path / "r.json")
    assert doc["finished"] is True
    by_name = {s["name"]: s for s in doc["steps"]}
    assert by_name["a"]["status"] == "failed"
    assert by_name["a"]["error"] == "RuntimeError: CUDA error: out of memory"
    assert "Traceback" in by_name["a"]["traceback"]
    assert by_name["b"]["error"] == "SystemExit: could not read the embed summary"
    assert (by_name["c"]["status"], by_name["c"]["reason"]) == ("skipped", "faiss is not installed")
    assert by_name["d"] == {"name": "d", "status": "ok", "result": {"ran": "d"}, "seconds": 0.0}


def test_the_report_on_disk_holds_each_step_as_soon_as_it_ends(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    seen: list[list[str]] = []

    def look(ctx: Context) -> dict[str, Any]:  # a kill here keeps what came before
        seen.append([s["name"] for s in _report(report)["steps"]])
        return {}

    run_steps([_step("a", 1), _step("b", 1, look)], _ctx(tmp_path), 100, report)
    assert seen == [["a"]]


def test_without_a_device_only_the_steps_that_need_none_run(tmp_path: Path) -> None:
    steps = [Step("env", "", lambda ctx: {}, 1, 1, needs_device=False), _step("peak", 1)]
    doc = run_steps(steps, _ctx(tmp_path), 100, tmp_path / "r.json", no_device="no CUDA device")
    assert [(s["status"], s.get("reason")) for s in doc["steps"]] == [
        ("ok", None),
        ("skipped", "no CUDA device"),
    ]


def test_blocked_knn_finds_the_exact_neighbours() -> None:
    import torch

    x = torch.nn.functional.normalize(
        torch.randn(300, 16, generator=torch.Generator().manual_seed(1))
    )
    idx, seconds = knn(x, 250, 5, 64)  # blocks that do not divide the queries
    assert torch.equal(idx, (x[:250] @ x.T).topk(5, dim=1).indices) and seconds >= 0


def test_faiss_is_skipped_with_the_reason_where_the_device_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "faiss", None)  # import faiss fails, as on the device
    ctx = Context(cpu=False, sizes=device_steps.DEVICE, work=tmp_path)
    with pytest.raises(StepSkipped, match="603.8 MiB.*over the 64 MiB"):
        device_search.faiss_search(ctx)


def test_the_cpu_dry_run_of_the_cheap_steps_reports_their_figures(tmp_path: Path) -> None:
    steps = "env,peak,torch-search,faiss"
    assert device_steps.main(["--cpu", "--steps", steps, "--out", str(tmp_path)]) == 0
    doc = _report(tmp_path / "device_check.json")
    assert (doc["mode"], doc["finished"]) == ("cpu dry run", True)
    by_name = {s["name"]: s for s in doc["steps"]}
    assert [s["name"] for s in doc["steps"]] == steps.split(",")
    assert by_name["env"]["result"]["imports"]["blindpairs.cli"] == "ok"
    assert by_name["peak"]["result"]["float32_tflops"] > 0
    search = by_name["torch-search"]["result"]
    assert search["n"] == device_steps.CPU.search_n and search["bfloat16_recall_vs_float32"] > 0.9
    assert search["float32_of_peak"] > 0  # against the peak step of the same run
    assert by_name["faiss"]["status"] in ("ok", "skipped")


def _check_sh(tmp_path: Path, python: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": python, "OUT": str(tmp_path)}
    return subprocess.run(
        ["bash", "scripts/device_check.sh", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_the_shell_entry_writes_the_report_and_log_when_python_fails(tmp_path: Path) -> None:
    done = _check_sh(tmp_path, "false", "--cpu")
    assert done.returncode == 1
    doc = _report(tmp_path / "device_check.json")
    assert (doc["finished"], doc["exit_code"]) == (False, 1)
    assert "wrote no report" in doc["error"]
    assert "device_check: exit 1" in (tmp_path / "device_check.log").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_whole_cpu_dry_run_through_the_shell_entry(tmp_path: Path) -> None:
    done = _check_sh(tmp_path, sys.executable, "--cpu")
    assert done.returncode == 0, done.stdout + done.stderr
    doc = _report(tmp_path / "device_check.json")
    assert doc["exit_code"] == 0 and doc["finished"] is True
    assert {s["name"]: s["status"] for s in doc["steps"]} == {
        name: ("skipped" if name == "faiss" and not _has_faiss() else "ok") for name in ORDER
    }
    stage = next(s for s in doc["steps"] if s["name"] == "stage")["result"]
    for row in stage["encoders"].values():
        assert row["tiles"] > 0 and row["stage_over_model"] > 0
    log = (tmp_path / "device_check.log").read_text(encoding="utf-8")
    assert "step stage: ok" in log and "device_check: exit 0" in log


def _has_faiss() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True
