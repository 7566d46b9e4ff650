"""The leaderboard across every model evaluated in a workspace (CSV and Markdown)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
from pathlib import Path
from typing import Any

from blindpairs import atomic, schemas
from blindpairs.cells import markdown
from blindpairs.workspace import Workspace

log = logging.getLogger(__name__)

COLUMNS = schemas.LEADERBOARD_COLUMNS  # the contract: blindpairs/schemas.py


def _row(run: str, s: dict[str, Any]) -> dict[str, Any]:
    pair, question = s["pair_accuracy"], s["question_accuracy"]
    pair_ci, question_ci = pair.get("ci95") or [None, None], question.get("ci95") or [None, None]
    both = s.get("pair_accuracy_both_orders") or {}
    all_failed = bool(s.get("all_failed")) or s.get("answered") == 0
    return {
        "rank": None,
        "run": run,
        "model": s.get("model"),
        "pair_accuracy": pair.get("accuracy"),
        "pair_ci95_low": pair_ci[0],
        "pair_ci95_high": pair_ci[1],
        "question_accuracy": question.get("accuracy"),
        "question_ci95_low": question_ci[0],
        "question_ci95_high": question_ci[1],
        "pair_accuracy_both_orders": both.get("accuracy"),
        "pairs": s.get("pairs"),
        "questions": s.get("questions"),
        "unparsed_rate": s.get("unparsed_rate"),
        "failed": s.get("failed"),
        "prompt_version": s.get("prompt_version"),
        "scoring": s.get("scoring") or "blindpairs",
        "parser_version": s.get("parser_version") or "",
        "swap_options": s.get("swap_options"),
        "judge": s.get("judge") or "",
        "judge_protocol": s.get("judge_protocol") or "",
        "benchmark": s.get("benchmark_fingerprint"),
        "limit": s.get("limit") or 0,
        "complete": s.get("complete"),
        "ranked": not all_failed,
        "random_weights": s.get("random_weights"),
        "benchmark_random_weights": bool(s.get("benchmark_random_weights")),
    }


def group_key(row: dict[str, Any]) -> tuple[str, int]:
    """Runs are ranked only against runs on the same benchmark and the same ``--limit``."""
    return (str(row["benchmark"] or ""), int(row["limit"] or 0))


def collect(evaluation_dir: Path) -> list[dict[str, Any]]:
    """One row per ``<run>/scores.json``; grouped by benchmark and limit, best first.

    Ranks count within a group; a run where every request failed has no rank.
    """
    rows = []
    for path in sorted(evaluation_dir.glob("*/scores.json")):
        try:
            rows.append(_row(path.parent.name, json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("%s: not a scores file, left off the leaderboard (%s)", path, exc)
    rows.sort(
        key=lambda r: (
            group_key(r),
            not r["ranked"],
            -(r["pair_accuracy"] or 0.0),
            -(r["question_accuracy"] or 0.0),
            r["run"],
        )
    )
    for _, group in itertools.groupby(rows, key=group_key):
        ranked = [r for r in group if r["ranked"]]
        for rank, row in enumerate(ranked, start=1):
            row["rank"] = rank
    return rows


def _pct(x: Any) -> str:
    return "" if x is None else f"{100 * x:.1f}"


def _heading(key: tuple[str, int], rows: list[dict[str, Any]]) -> str:
    fingerprint, limit = key
    subset = f"first {limit} items" if limit else "all items"
    flag = (
        " (mined with random-weight encoders: not a real benchmark)"
        if any(r["benchmark_random_weights"] for r in rows)
        else ""
    )
    return f"## Benchmark `{fingerprint}`, {subset}{flag}"


def _notes(r: dict[str, Any]) -> str:
    notes = []
    if r["judge"]:
        notes.append(f"judge {markdown(r['judge'])} ({r['judge_protocol'] or 'blindpairs'})")
    if not r["ranked"]:
        notes.append("every request failed: not ranked")
    elif not r["complete"]:
        notes.append("incomplete")
    if r["random_weights"]:
        notes.append("random weights (not a real model)")
    return ", ".join(notes)


def to_markdown(rows: list[dict[str, Any]]) -> str:
    """Markdown tables, one per benchmark and limit: accuracies in percent with 95% intervals
    (every text cell escaped: model ids and run names come from users)."""
    lines = [
        "# Leaderboard",
        "",
        "MMVP pair accuracy (chance 25%) is the headline; `both orders` is the "
        "`--swap-options` pair accuracy (right in both option orders, chance about 6.25%). "
        "Runs are ranked only against runs on the same benchmark (fingerprint) and `--limit`.",
    ]
    for key, group in itertools.groupby(rows, key=group_key):
        members = list(group)
        lines += [
            "",
            _heading(key, members),
            "",
            "| # | run | model | pair acc % (95% CI) | both orders % | question acc % (95% CI) "
            "| pairs | unparsed % | failed | prompt | scoring | notes |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in members:
            lines.append(
                f"| {r['rank'] or '-'} | {markdown(r['run'])} | {markdown(r['model'])} "
                f"| {_pct(r['pair_accuracy'])} "
                f"({_pct(r['pair_ci95_low'])}-{_pct(r['pair_ci95_high'])}) "
                f"| {_pct(r['pair_accuracy_both_orders'])} "
                f"| {_pct(r['question_accuracy'])} ({_pct(r['question_ci95_low'])}-"
                f"{_pct(r['question_ci95_high'])}) | {r['pairs']} | {_pct(r['unparsed_rate'])} "
                f"| {r['failed']} | {markdown(r['prompt_version'])} "
                f"| {markdown(r['scoring'])} | {_notes(r)} |"
            )
    return "\n".join(lines) + "\n"


def write_leaderboard(ws: Workspace) -> list[dict[str, Any]]:
    """Rewrite the workspace's ``leaderboard.csv`` and ``leaderboard.md`` from every run's
    scores."""
    rows = collect(ws.evaluation)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic.write_text(ws.leaderboard, buf.getvalue())
    atomic.write_text(ws.leaderboard_md, to_markdown(rows))
    return rows
