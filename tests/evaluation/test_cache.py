"""The append-only response cache: dedupe on read, torn lines, no double writes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from evaluation.cache import ResponseCache, cache_key


def test_key_depends_on_every_part() -> None:
    base = ("m", "v1", "prompt", "img")
    keys = {cache_key(*base)}
    for i in range(4):
        changed = list(base)
        changed[i] = changed[i] + "x"
        keys.add(cache_key(*changed))
    assert len(keys) == 5


def test_reload_keeps_first_record_and_skips_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    path.write_text(
        json.dumps({"key": "k1", "response": "first"})
        + "\n"
        + json.dumps({"key": "k1", "response": "second"})
        + "\n"
        + '{"key": "k2", "resp'
    )
    cache = ResponseCache(path)
    assert len(cache) == 1 and cache.get("k1")["response"] == "first"
    assert cache.torn_lines == 1
    assert cache.put("k2", {"response": "new"})  # not glued onto the torn line
    again = ResponseCache(path)
    assert again.get("k2")["response"] == "new" and again.torn_lines == 1


def test_concurrent_puts_write_each_key_once(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.jsonl")
    threads = [
        threading.Thread(target=lambda i=i: cache.put(f"k{i % 5}", {"response": str(i)}))
        for i in range(40)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = (tmp_path / "c.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["key"] for x in lines) == [f"k{i}" for i in range(5)]


def test_retry_policy_honours_retry_after_and_jitters() -> None:
    import random

    from evaluation.backends.http import RetryPolicy, parse_retry_after

    policy = RetryPolicy(max_retries=3, backoff_base_s=1.0, backoff_max_s=10.0)
    rng = random.Random(0)
    assert policy.delay(1, 2.5, rng) == 2.5  # Retry-After wins
    assert policy.delay(1, 99.0, rng) == 10.0  # but is capped
    waits = [policy.delay(3, None, rng) for _ in range(50)]
    assert all(2.0 <= w <= 4.0 for w in waits) and len(set(waits)) > 1  # 4 s, jittered
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
    assert parse_retry_after("soon") is None
