"""``blindpairs evaluate``: score models on the benchmark and update the leaderboard."""

from __future__ import annotations

import argparse
import sys

from blindpairs.commands import Command, record_params, stage_options
from blindpairs.config import add_options
from blindpairs.workspace import Workspace
from evaluation.params import EvaluateParams

STAGE = "evaluate"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_options(parser, EvaluateParams)


def run(args: argparse.Namespace) -> int:
    from evaluation import stage

    params, compute = stage_options(args, STAGE, EvaluateParams, check=stage.check)
    ws = Workspace(args.workspace)
    done = stage.run(ws, params, compute)
    record_params(args, STAGE, params)
    failed_questions = _summary(done.runs, done.benchmark, done.leaderboard_rows, ws)
    return 1 if failed_questions or any(r.status == "failed" for r in done.runs) else 0


def _summary(runs: list, bench: object, n_leaderboard: int, ws: Workspace) -> int:
    """Print one line per run and a total in questions; return the failed questions."""
    out = sys.stdout
    for r in runs:
        if r.status == "failed":
            print(f"{r.run}: failed: {r.error}", file=out)
            continue
        s = r.scores or {}
        pair, question = s.get("pair_accuracy", {}), s.get("question_accuracy", {})
        note = " (up to date, skipped)" if r.status == "up to date" else ""
        print(
            f"{r.run}{note}: pair acc {_pct(pair.get('accuracy'))} "
            f"({pair.get('correct')}/{pair.get('total')}), question acc "
            f"{_pct(question.get('accuracy'))}, unparsed {s.get('unparsed')}, failed "
            f"{s.get('failed')}",
            file=out,
        )
    scored = [r.scores or {} for r in runs]  # a run whose every request failed has scores too
    failed = sum(int(s.get("failed") or 0) for s in scored)
    done = sum(int(s.get("asked") or 0) for s in scored) - failed
    skipped = sum(int((r.scores or {}).get("asked") or 0) for r in runs if r.status == "up to date")
    stopped = [r.run for r in runs if r.status == "failed"]
    problems = len(getattr(bench, "problems", ()))
    print(
        f"evaluate: {done - skipped} question(s) done, {skipped} skipped as up to date, "
        f"{failed} failed after retries (a re-run asks them again)"
        + (f"; stopped: {', '.join(stopped)}" if stopped else "")
        + f"; {problems} benchmark row(s) unusable; leaderboard of {n_leaderboard} run(s) in "
        f"{ws.evaluation / 'leaderboard.md'}",
        file=out,
    )
    return failed


def _pct(x: object) -> str:
    return "n/a" if x is None else f"{100 * float(x):.1f}%"  # type: ignore[arg-type]


COMMANDS = [
    Command(
        name=STAGE,
        help="score MLLMs on the benchmark (MMVP pair accuracy) and update the leaderboard",
        add_arguments=add_arguments,
        run=run,
        runs_models=True,  # the clip: and hf: backends
        description=(
            "Ask each model every benchmark question (cached, retried, in parallel), parse "
            "the answers, and write <ws>/evaluation/<run>/{responses.jsonl,scores.json} and "
            "<ws>/evaluation/leaderboard.{csv,md}. Pair accuracy follows MMVP: items 2k-1 "
            "and 2k form a pair, right only when both are right."
        ),
    ),
]
