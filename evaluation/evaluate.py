"""Evaluate one model on a loaded benchmark: ask, parse, judge, score, write outputs.

Outputs in ``<ws>/evaluation/<run>/``: ``cache.jsonl`` (every paid-for answer,
append-only), ``judge_cache.jsonl``, ``responses.jsonl`` (one row per asked
question) and ``scores.json`` (written last: its presence marks a finished
run, and its ``signature`` lets a re-run with nothing new skip).
"""

from __future__ import annotations

import functools
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from blindpairs import atomic, freshness, lock
from blindpairs.config import to_dict
from blindpairs.workspace import Workspace
from evaluation.backends import create_backend, source_digest
from evaluation.backends.base import Backend, Query, Reply
from evaluation.backends.http import Redactor
from evaluation.cache import ResponseCache, cache_key
from evaluation.items import BenchItem, LoadedBenchmark
from evaluation.judge import Judge, correct_answer, judge_prompt, read_verdict
from evaluation.metrics import Outcome, compute_scores
from evaluation.params import EvaluateParams
from evaluation.prompts import PromptTemplate, get_template
from evaluation.run_owner import record_model
from evaluation.runner import Result, run_tasks
from evaluation.scoring import Profile, get_profile

log = logging.getLogger(__name__)

# Params that change what is asked or how it is scored (the rest only change how).
SCORING_PARAMS = (
    "prompt",
    "scoring",
    "swap_options",
    "limit",
    "judge",
    "judge_mode",
    "judge_protocol",
    "seed",
    "clip_text",
    "max_tokens",
    "temperature",
    "token_param",
    "max_completion_tokens",
)


@dataclass(frozen=True)
class ModelRun:
    """What happened to one model."""

    model: str
    run: str
    status: str  # "done", "up to date" or "failed"
    scores: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class Asked:
    """One question as asked: the item as shown, its variant, prompt and cache key."""

    item: BenchItem
    shown: BenchItem
    variant: str
    prompt: str
    key: str


@dataclass(frozen=True)
class Grading:
    """How a run's replies are read: the prompt template, the answer-parsing profile and
    the optional judge with its mode (``all`` or ``unparsed``)."""

    template: PromptTemplate
    profile: Profile
    judge: Judge | None
    mode: str

    @classmethod
    def of(cls, params: EvaluateParams) -> Grading:
        judge = Judge(params.judge, params) if params.judge else None
        template, profile = get_template(params.prompt), get_profile(params.scoring)
        return cls(template, profile, judge, judge_mode(judge, params))


def signature(model_id: str, params: EvaluateParams, bench: LoadedBenchmark) -> str:
    """What decides the scores of a run; equal signatures mean nothing to redo."""
    settings = {k: v for k, v in to_dict(params).items() if k in SCORING_PARAMS}
    parser = get_profile(params.scoring).version
    value = [model_id, source_digest(model_id), settings, parser, bench.fingerprint()]
    return freshness.fingerprint(value, length=16)


def up_to_date(ws: Workspace, run: str, sig: str) -> dict[str, Any] | None:
    """The run's earlier scores when they are complete, have signature ``sig`` and its
    answers are still there."""
    stamp = freshness.Stamp(ws.scores(run), (ws.responses(run),), key="signature")
    return stamp.read() if stamp.is_fresh(sig, {"complete": True}) else None


def plan(
    backend: Backend, template: PromptTemplate, items: list[BenchItem], swap: bool
) -> list[Asked]:
    """Every question to ask: each item, and each item with swapped options when ``swap``."""
    variants = ("original", "swapped") if swap else ("original",)
    asked = []
    for it in items:
        for variant in variants:
            shown = it if variant == "original" else it.swapped()
            prompt = template.render(shown)
            key = cache_key(backend.cache_id, template.version, prompt, it.image_hash)
            asked.append(Asked(it, shown, variant, prompt, key))
    return asked


def ask(
    backend: Backend, asked: list[Asked], cache: ResponseCache | None, redact: Redactor, quiet: bool
) -> dict[str, Result]:
    tasks, meta = {}, {}
    for a in asked:
        if a.key not in tasks:
            query = Query(a.shown, a.prompt, a.variant)
            tasks[a.key] = functools.partial(backend.answer, query)
            meta[a.key] = {
                "model": backend.cache_id,
                "prompt": a.prompt,
                "index": a.item.index,
                "image_sha256": a.item.image_hash,
            }
    return run_tasks(
        tasks,
        cache=cache,
        meta=meta,
        concurrency=backend.concurrency,
        redact=redact,
        desc=f"evaluate {backend.id}",
        quiet=quiet,
    )


def judge_mode(judge: Judge | None, params: EvaluateParams) -> str:
    """``all`` under MMVP's protocol (every reply judged), else ``--judge-mode``."""
    return "all" if judge is not None and judge.protocol.judge_every_reply else params.judge_mode


def judge_all(
    grading: Grading,
    asked: list[Asked],
    results: dict[str, Result],
    cache: ResponseCache,
    redact: Redactor,
    quiet: bool,
) -> dict[str, tuple[str, Result]]:
    """Judge verdicts by the asked question's cache key: ``(judge question, result)``
    (none without a judge)."""
    judge, labels = grading.judge, grading.template.labels
    if judge is None:
        return {}
    questions: dict[str, str] = {}
    for a in asked:
        text = results[a.key].text
        unparsed_only = grading.mode == "unparsed"
        if text is None or (unparsed_only and grading.profile.parse(text, a.shown)[0] is not None):
            continue
        option = a.shown.option_a if a.shown.answer == "a" else a.shown.option_b
        label = labels[0] if a.shown.answer == "a" else labels[1]
        answer = correct_answer(label, option, judge.protocol)
        questions[a.key] = judge_prompt(a.prompt, answer, text)
    keys = {
        k: cache_key(judge.cache_id, judge.protocol.version, q, "") for k, q in questions.items()
    }
    tasks = {keys[k]: functools.partial(_grade, judge, q) for k, q in questions.items()}
    meta = {keys[k]: {"model": judge.cache_id, "prompt": q} for k, q in questions.items()}
    verdicts = run_tasks(
        tasks,
        cache=cache,
        meta=meta,
        concurrency=judge.concurrency,
        redact=redact,
        desc=f"judge {judge.id}",
        quiet=quiet,
    )
    return {k: (questions[k], verdicts[keys[k]]) for k in questions}


def _grade(judge: Judge, question: str) -> Reply:
    verdict = judge.grade(question)
    return Reply(text=verdict.reply)


def outcome_row(
    a: Asked,
    result: Result,
    backend: Backend,
    grading: Grading,
    verdict: tuple[str, Result] | None,
) -> tuple[Outcome, dict[str, Any]]:
    """Score one asked question; return its outcome and its responses.jsonl row."""
    template, profile, judge = grading.template, grading.profile, grading.judge
    parsed, rule = profile.parse(result.text, a.shown)
    correct = parsed == a.shown.answer
    judged = None
    if verdict is not None and verdict[1].text is not None and judge is not None:
        judged = read_verdict(verdict[1].text, judge.protocol)
        if grading.mode == "all" or parsed is None:
            correct = judged is True
    row = {
        "index": a.item.index,
        "model": backend.id,
        "prompt_version": template.version,
        "prompt": a.prompt,
        "response": result.text,
        "parsed": parsed,
        "correct": bool(correct),
        "variant": a.variant,
        "answer": a.shown.answer,
        "pair_id": a.item.pair_id,
        "category": a.item.category,
        "parse_rule": rule,
        "scoring": profile.name,
        "error": result.error,
        "latency_s": result.latency_s,
        "attempts": result.attempts,
        "cached": result.cached,
    }
    if verdict is not None:
        row["judge_reply"] = verdict[1].text
        row["judge_verdict"] = judged
        row["judge_error"] = verdict[1].error
    if result.extra:
        row["extra"] = result.extra
    return Outcome(parsed, bool(correct), failed=result.error is not None), row


def _run_facts(
    backend: Backend, grading: Grading, params: EvaluateParams, bench: LoadedBenchmark
) -> dict[str, Any]:
    """What scores.json records about how a run was made (besides its scores)."""
    judge = grading.judge
    return {
        "model": backend.id,
        "prompt_version": grading.template.version,
        "prompt_template": grading.template.text,
        "scoring": grading.profile.name,
        "parser_version": grading.profile.version,
        "limit": params.limit,
        "swap_options": params.swap_options,
        "judge": params.judge or None,
        "judge_mode": grading.mode if judge else None,
        "judge_protocol": params.judge_protocol if judge else None,
        "judge_version": judge.protocol.version if judge else None,
        "judge_sampling": judge.sampling() if judge else None,
        "random_weights": backend.random_weights,
        "benchmark_random_weights": bench.random_weights,
        "benchmark": bench.source,
        "benchmark_format": bench.format,
        "benchmark_fingerprint": bench.fingerprint(),
        "benchmark_problems": [{"row": r, "problem": p} for r, p in bench.problems],
    }


@lock.locked("evaluate")
def evaluate_model(
    ws: Workspace,
    bench: LoadedBenchmark,
    model_id: str,
    params: EvaluateParams,
    run: str,
    quiet: bool = False,
) -> ModelRun:
    """Evaluate ``model_id`` into ``<ws>/evaluation/<run>/`` (skips when up to date)."""
    out_dir = ws.evaluation_run(run)
    sig = signature(model_id, params, bench)
    if not params.force:
        earlier = up_to_date(ws, run, sig)
        if earlier is not None:
            return ModelRun(model_id, run, "up to date", earlier)
    items = list(bench.items[: params.limit] if params.limit else bench.items)
    grading = Grading.of(params)
    redact = Redactor(params.api_key())
    backend = create_backend(model_id, params)
    record_model(out_dir, model_id)
    atomic.clean_stale_temporaries(out_dir)
    started = time.time()
    try:
        asked = plan(backend, grading.template, items, params.swap_options)
        cache = ResponseCache(out_dir / "cache.jsonl") if backend.cacheable else None
        results = ask(backend, asked, cache, redact, quiet)
        judge_cache = ResponseCache(out_dir / "judge_cache.jsonl")
        verdicts = judge_all(grading, asked, results, judge_cache, redact, quiet)
    finally:
        backend.close()
    outcomes, rows = {}, []
    for a in asked:
        outcome, row = outcome_row(a, results[a.key], backend, grading, verdicts.get(a.key))
        outcomes[(a.item.index, a.variant)] = outcome
        rows.append(row)
    variants = ("original", "swapped") if params.swap_options else ("original",)
    scores = compute_scores(items, outcomes, variants, bench.index_base)
    all_failed = bool(items) and scores["answered"] == 0
    scores.update(_run_facts(backend, grading, params, bench))
    scores.update(
        run=run,
        all_failed=all_failed,
        signature=sig,
        seconds=round(time.time() - started, 3),
        paid_questions=sum(1 for r in results.values() if not r.cached and r.error is None),
    )
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    atomic.write_text(ws.responses(run), redact(text))
    atomic.write_json(ws.scores(run), scores)
    if all_failed:
        first = next((r.error for r in results.values() if r.error), "no answer")
        error = f"every request failed ({scores['failed']}); first error: {first}"
        return ModelRun(model_id, run, "failed", scores, error=error)
    return ModelRun(model_id, run, "done", scores)
