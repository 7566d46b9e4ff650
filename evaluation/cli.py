"""``blindpairs evaluate``: score models on the benchmark and update the leaderboard."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from blindpairs.commands import Command, record_params, stage_params
from blindpairs.config import add_options
from blindpairs.errors import ConfigError
from blindpairs.workspace import Workspace
from evaluation.params import EvaluateParams

log = logging.getLogger("evaluation")

STAGE = "evaluate"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_options(parser, EvaluateParams)


def check(params: EvaluateParams) -> None:
    """Fail fast on options that cannot work, before any model is loaded or asked."""
    from evaluation.backends import split_id

    if not params.models:
        raise ConfigError(
            "no model given: pass --models ID[,ID...] (e.g. random, clip:<encoder_id>, "
            "openai:gpt-4o) or set 'models' in the evaluate section of the config"
        )
    for model_id in params.models:
        split_id(model_id)
    if params.judge:
        split_id(params.judge)
    if params.run_name and len(params.models) > 1:
        raise ConfigError("--run-name names one model's results; give one model per run with it")
    if len(set(params.models)) != len(params.models):
        raise ConfigError(f"--models lists a model twice: {','.join(params.models)}")


def run(args: argparse.Namespace) -> int:
    from evaluation.backends.base import BackendFatal
    from evaluation.evaluate import evaluate_model
    from evaluation.leaderboard import write_leaderboard
    from evaluation.loaders import load_benchmark

    params = stage_params(args, STAGE, EvaluateParams)
    check(params)
    ws = Workspace(args.workspace)
    bench = load_benchmark(
        Path(params.benchmark) if params.benchmark else ws.benchmark, params.benchmark_format
    )
    for ref, problem in bench.problems:
        log.warning("%s: %s: item skipped", ref, problem)
    names = _run_names(ws, params)
    runs = []
    for model_id, name in zip(params.models, names, strict=True):
        try:
            runs.append(evaluate_model(ws, bench, model_id, params, name, quiet=args.quiet))
        except BackendFatal as exc:
            log.error("%s: stopped: %s (answers so far are cached)", model_id, exc)
            from evaluation.evaluate import ModelRun

            runs.append(ModelRun(model_id, name, "failed", error=str(exc)))
    rows = write_leaderboard(ws)
    record_params(args, STAGE, params)
    failed_questions = _summary(runs, bench, len(rows), ws)
    return 1 if failed_questions or any(r.status == "failed" for r in runs) else 0


def _run_names(ws: Workspace, params: EvaluateParams) -> list[str]:
    """Each model's result folder; ConfigError before anything is asked when two models
    get one default folder, or a default folder holds another model's results."""
    from evaluation.backends import default_run_name
    from evaluation.run_owner import check_default_folder

    if params.run_name:
        return [params.run_name]
    names = [default_run_name(model_id, params) for model_id in params.models]
    for name in {n for n in names if names.count(n) > 1}:
        same = [m for m, n in zip(params.models, names, strict=True) if n == name]
        raise ConfigError(
            f"models {', '.join(same)} would share the result folder {name!r}: evaluate them "
            "one per run, each with --run-name NAME"
        )
    for model_id, name in zip(params.models, names, strict=True):
        check_default_folder(ws.evaluation_run(name), model_id)
    return names


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
        description=(
            "Ask each model every benchmark question (cached, retried, in parallel), parse "
            "the answers, and write <ws>/evaluation/<run>/{responses.jsonl,scores.json} and "
            "<ws>/evaluation/leaderboard.{csv,md}. Pair accuracy follows MMVP: items 2k-1 "
            "and 2k form a pair, right only when both are right."
        ),
    ),
]
