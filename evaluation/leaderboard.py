"""The leaderboard across every model evaluated in a workspace (CSV and Markdown)."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path
from typing import Any

from blindpairs import atomic
from blindpairs.cells import markdown

log = logging.getLogger(__name__)

COLUMNS = (
    "rank",
    "run",
    "model",
    "pair_accuracy",
    "pair_ci95_low",
    "pair_ci95_high",
    "question_accuracy",
    "question_ci95_low",
    "question_ci95_high",
    "pairs",
    "questions",
    "unparsed_rate",
    "failed",
    "prompt_version",
    "swap_options",
    "judge",
    "benchmark",
    "complete",
    "random_weights",
)


def _row(run: str, s: dict[str, Any]) -> dict[str, Any]:
    pair, question = s["pair_accuracy"], s["question_accuracy"]
    pair_ci, question_ci = pair.get("ci95") or [None, None], question.get("ci95") or [None, None]
    return {
        "run": run,
        "model": s.get("model"),
        "pair_accuracy": pair.get("accuracy"),
        "pair_ci95_low": pair_ci[0],
        "pair_ci95_high": pair_ci[1],
        "question_accuracy": question.get("accuracy"),
        "question_ci95_low": question_ci[0],
        "question_ci95_high": question_ci[1],
        "pairs": s.get("pairs"),
        "questions": s.get("questions"),
        "unparsed_rate": s.get("unparsed_rate"),
        "failed": s.get("failed"),
        "prompt_version": s.get("prompt_version"),
        "swap_options": s.get("swap_options"),
        "judge": s.get("judge") or "",
        "benchmark": s.get("benchmark_fingerprint"),
        "complete": s.get("complete"),
        "random_weights": s.get("random_weights"),
    }


def collect(evaluation_dir: Path) -> list[dict[str, Any]]:
    """One row per ``<run>/scores.json``, best pair accuracy first."""
    rows = []
    for path in sorted(evaluation_dir.glob("*/scores.json")):
        try:
            rows.append(_row(path.parent.name, json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("%s: not a scores file, left off the leaderboard (%s)", path, exc)
    rows.sort(
        key=lambda r: (-(r["pair_accuracy"] or 0.0), -(r["question_accuracy"] or 0.0), r["run"])
    )
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def _pct(x: Any) -> str:
    return "" if x is None else f"{100 * x:.1f}"


def to_markdown(rows: list[dict[str, Any]]) -> str:
    """A Markdown table: accuracies in percent with their 95% Wilson intervals (every text
    cell escaped: model ids and run names come from users)."""
    lines = [
        "| # | run | model | pair acc % (95% CI) | question acc % (95% CI) | pairs | unparsed % "
        "| failed | prompt | notes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        notes = []
        if r["swap_options"]:
            notes.append("swap")
        if r["judge"]:
            notes.append(f"judge {markdown(r['judge'])}")
        if not r["complete"]:
            notes.append("incomplete")
        if r["random_weights"]:
            notes.append("random weights (not a real model)")
        lines.append(
            f"| {r['rank']} | {markdown(r['run'])} | {markdown(r['model'])} "
            f"| {_pct(r['pair_accuracy'])} "
            f"({_pct(r['pair_ci95_low'])}-{_pct(r['pair_ci95_high'])}) "
            f"| {_pct(r['question_accuracy'])} ({_pct(r['question_ci95_low'])}-"
            f"{_pct(r['question_ci95_high'])}) | {r['pairs']} | {_pct(r['unparsed_rate'])} "
            f"| {r['failed']} | {markdown(r['prompt_version'])} | {', '.join(notes)} |"
        )
    return "\n".join(lines) + "\n"


def write_leaderboard(evaluation_dir: Path) -> list[dict[str, Any]]:
    """Rewrite ``leaderboard.csv`` and ``leaderboard.md`` from every run's scores."""
    rows = collect(evaluation_dir)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic.write_text(evaluation_dir / "leaderboard.csv", buf.getvalue())
    atomic.write_text(evaluation_dir / "leaderboard.md", to_markdown(rows))
    return rows
