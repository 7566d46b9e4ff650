"""The evaluate stage's entry point: score each model on the benchmark, then the
leaderboard."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from blindpairs.compute import Compute
from blindpairs.errors import ConfigError
from blindpairs.workspace import Workspace
from evaluation.evaluate import ModelRun, evaluate_model
from evaluation.loaders import LoadedBenchmark, load_benchmark
from evaluation.params import EvaluateParams

log = logging.getLogger("evaluation")


@dataclass(frozen=True)
class EvaluateSummary:
    """What one evaluate run did: each model's run, the benchmark read, the leaderboard."""

    runs: list[ModelRun]
    benchmark: LoadedBenchmark
    leaderboard_rows: int


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


def run(
    workspace: Workspace | str | Path, params: EvaluateParams, compute: Compute
) -> EvaluateSummary:
    """The evaluate stage: ask each of ``params.models`` every benchmark question (cached,
    in parallel threads: ``compute``'s cluster is not used) and rewrite the leaderboard. A
    model that stops (e.g. bad credentials) is a ``failed`` run; the others go on."""
    from evaluation.backends.base import BackendFatal
    from evaluation.leaderboard import write_leaderboard

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    check(params)
    bench = load_benchmark(
        Path(params.benchmark) if params.benchmark else ws.benchmark, params.benchmark_format
    )
    for ref, problem in bench.problems:
        log.warning("%s: %s: item skipped", ref, problem)
    names = _run_names(ws, params)
    runs = []
    for model_id, name in zip(params.models, names, strict=True):
        try:
            runs.append(evaluate_model(ws, bench, model_id, params, name, quiet=compute.quiet))
        except BackendFatal as exc:
            log.error("%s: stopped: %s (answers so far are cached)", model_id, exc)
            runs.append(ModelRun(model_id, name, "failed", error=str(exc)))
    return EvaluateSummary(runs, bench, len(write_leaderboard(ws)))


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
