"""Runs the device check's named steps within a time budget and keeps a JSON report.

Each step has an estimate of its seconds on the device and in the ``--cpu`` dry
run; a step whose estimate does not fit in what is left of the budget is skipped
with that reason, so one command ends inside the device call's limit. A step
that fails is recorded with its error and the next one runs. The report is
rewritten (atomically) after every step, so a run killed at its limit still
leaves what it measured. Nothing here imports the project or torch: the report
is written even when the environment is broken.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class StepSkipped(Exception):
    """Raised by a step that cannot run here; the message is the reason."""


@dataclass
class Context:
    """What the steps share: the mode, the sizes, a scratch folder, measured peaks, models."""

    cpu: bool
    sizes: Any
    work: Path
    peaks: dict[str, float] = field(default_factory=dict)
    models: dict[tuple[str, str], Any] = field(default_factory=dict)

    @property
    def device(self) -> str:
        return "cpu" if self.cpu else "cuda"


@dataclass(frozen=True)
class Step:
    """One named step: what it measures, its function and its estimated seconds."""

    name: str
    about: str
    run: Callable[[Context], dict[str, Any]]
    gpu_s: float
    cpu_s: float
    needs_device: bool = True

    def estimate(self, cpu: bool) -> float:
        return self.cpu_s if cpu else self.gpu_s


def write_report(path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` as JSON to ``path`` atomically (temporary sibling, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".tmp-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, default=str)
        f.write("\n")
    os.replace(tmp, path)


def _run_one(step: Step, ctx: Context, clock: Callable[[], float]) -> dict[str, Any]:
    start = clock()
    entry: dict[str, Any] = {"name": step.name}
    try:
        entry.update(status="ok", result=step.run(ctx))
    except StepSkipped as e:
        entry.update(status="skipped", reason=str(e))
    except (Exception, SystemExit) as e:  # bench code exits with a message on failure
        entry.update(status="failed", error=f"{type(e).__name__}: {e}")
        entry["traceback"] = traceback.format_exc()[-4000:]
        print(entry["traceback"], flush=True)
    entry["seconds"] = round(clock() - start, 2)
    return entry


def _summary(entry: dict[str, Any]) -> str:
    detail = entry.get("result", entry.get("reason", entry.get("error", "")))
    text = json.dumps(detail, default=str)
    return f"step {entry['name']}: {entry['status']} in {entry.get('seconds', 0)} s: {text}"


def run_steps(
    steps: Sequence[Step],
    ctx: Context,
    budget_s: float,
    report: Path,
    no_device: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Run ``steps`` in order within ``budget_s`` seconds; return (and keep writing) the report.

    ``no_device``: why there is no accelerator here; steps that need one are skipped with it.
    """
    started = clock()
    doc: dict[str, Any] = {
        "check": "blindpairs device check",
        "mode": "cpu dry run" if ctx.cpu else "device",
        "host": platform.node(),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "budget_s": budget_s,
        "steps": [],
        "finished": False,
    }
    write_report(report, doc)
    for step in steps:
        left = budget_s - (clock() - started)
        need = step.estimate(ctx.cpu)
        if no_device and step.needs_device:
            entry = {"name": step.name, "status": "skipped", "reason": no_device}
        elif need > left:
            reason = f"needs about {need:.0f} s; {max(left, 0):.0f} s of the {budget_s:.0f} s left"
            entry = {"name": step.name, "status": "skipped", "reason": reason}
        else:
            print(f"step {step.name}: {step.about} (about {need:.0f} s)", flush=True)
            entry = _run_one(step, ctx, clock)
        doc["steps"].append(entry)
        print(_summary(entry), flush=True)
        write_report(report, doc)
    doc.update(finished=True, elapsed_s=round(clock() - started, 2))
    write_report(report, doc)
    return doc
