"""Run keyed tasks (model questions, judge questions) through the cache, in parallel.

Each task has a cache key. A key already in the cache is not asked again; a
key shared by several queries is asked once; every answer is appended to the
cache the moment it arrives. Failures are returned, not raised, except
:class:`BackendFatal`, which stops the run once the answers already in flight
are saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from blindpairs.progress import progress
from evaluation.backends.base import BackendFatal, BackendItemError, Reply
from evaluation.cache import ResponseCache

log = logging.getLogger(__name__)

Task = Callable[[], Reply]


@dataclass(frozen=True)
class Result:
    """How one key ended: a reply text, or an error (never both)."""

    text: str | None
    error: str | None = None
    latency_s: float | None = None
    attempts: int = 0
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _from_cache(record: Mapping[str, Any]) -> Result:
    return Result(
        text=record.get("response"),
        latency_s=record.get("latency_s"),
        attempts=int(record.get("attempts") or 0),
        cached=True,
        extra=dict(record.get("extra") or {}),
    )


def _call(task: Task, redact: Callable[[str], str]) -> Result:
    try:
        reply = task()
    except BackendFatal:
        raise
    except BackendItemError as exc:
        return Result(text=None, error=redact(str(exc)))
    except Exception as exc:  # one bad item never stops the others
        log.debug("task failed", exc_info=True)
        return Result(text=None, error=redact(f"{type(exc).__name__}: {exc}"))
    text = redact(reply.text)  # a reply that echoes a secret keeps it out of every file
    return Result(text, None, reply.latency_s, reply.attempts, False, dict(reply.extra))


def run_tasks(
    tasks: Mapping[str, Task],
    *,
    cache: ResponseCache | None,
    meta: Mapping[str, Mapping[str, Any]],
    concurrency: int,
    redact: Callable[[str], str],
    desc: str,
    quiet: bool = False,
) -> dict[str, Result]:
    """Result of every key in ``tasks``; ``meta[key]`` is stored with its cache record."""
    results: dict[str, Result] = {}
    todo: dict[str, Task] = {}
    for key, task in tasks.items():
        record = cache.get(key) if cache is not None else None
        if record is not None:
            results[key] = _from_cache(record)
        else:
            todo[key] = task
    if not todo:
        return results

    def finish(key: str, result: Result) -> None:
        results[key] = result
        if cache is not None and result.error is None:
            cache.put(key, {**meta.get(key, {}), **_record(result)})
        bar.update(1)

    with progress(len(todo), desc, unit="q", quiet=quiet) as bar:
        if concurrency <= 1:
            for key, task in todo.items():
                finish(key, _call(task, redact))
        else:
            _run_parallel(todo, concurrency, redact, finish)
    return results


def _run_parallel(
    todo: Mapping[str, Task],
    concurrency: int,
    redact: Callable[[str], str],
    finish: Callable[[str, Result], None],
) -> None:
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="evaluate")
    pending: dict[Future, str] = {}
    queue = iter(todo.items())
    fatal: BaseException | None = None
    try:
        for key, task in queue:  # keep at most 2x concurrency submitted
            pending[pool.submit(_call, task, redact)] = key
            if len(pending) >= 2 * concurrency:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                key = pending.pop(fut)
                try:
                    finish(key, fut.result())
                except BackendFatal as exc:
                    fatal = fatal or exc
            if fatal is None:
                for key, task in queue:
                    pending[pool.submit(_call, task, redact)] = key
                    if len(pending) >= 2 * concurrency:
                        break
        if fatal is not None:
            raise fatal
    finally:
        pool.shutdown(wait=fatal is not None, cancel_futures=True)


def _record(result: Result) -> dict[str, Any]:
    return {
        "response": result.text,
        "latency_s": result.latency_s,
        "attempts": result.attempts,
        "extra": result.extra,
    }
