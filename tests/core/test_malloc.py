"""blindpairs.malloc: freed tensor-sized blocks are reused, not faulted in afresh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from blindpairs import malloc

GLIBC = malloc._glibc() is not None
needs_glibc = pytest.mark.skipif(not GLIBC, reason="glibc malloc only")

# Allocate, touch and free a 64 MiB block 6 times in a new thread; print tune()'s
# answer and the minor page faults of the last 5 rounds (the first warms the heap).
PROBE = textwrap.dedent(
    """
    import json, resource, sys, threading
    from blindpairs import malloc
    tuned = malloc.tune() if sys.argv[1] == "tune" else None
    faults = []
    def work():
        for _ in range(6):
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            block = bytearray(64 << 20)  # malloc + memset: every page touched
            del block
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    t = threading.Thread(target=work)
    t.start()
    t.join()
    print(json.dumps({"tuned": tuned, "faults": sum(faults[1:])}))
    """
)


def probe(mode: str, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in malloc.USER_VARIABLES}
    clean.pop("GLIBC_TUNABLES", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


@needs_glibc
def test_tuned_process_reuses_freed_blocks_in_threads() -> None:
    plain, tuned = probe("plain"), probe("tune")
    pages = 5 * (64 << 20) // 4096
    assert tuned["tuned"] is True
    assert plain["faults"] > pages // 2  # glibc's default: each block is a fresh mmap
    assert tuned["faults"] < pages // 20  # tuned: the first block's pages are reused


@needs_glibc
def test_users_own_malloc_settings_win() -> None:
    out = probe("tune", MALLOC_ARENA_MAX="8")
    assert out["tuned"] is False
    assert out["faults"] > 5 * (64 << 20) // 4096 // 2


def test_user_settings_names_glibc_variables() -> None:
    assert malloc.user_settings({}) == []
    assert malloc.user_settings({"MALLOC_ARENA_MAX": "2", "PATH": "/bin"}) == ["MALLOC_ARENA_MAX"]
    assert malloc.user_settings({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}) == [
        "GLIBC_TUNABLES"
    ]
    assert malloc.user_settings({"GLIBC_TUNABLES": "glibc.rtld.nns=2"}) == []


def test_release_is_safe_to_call_anytime() -> None:
    malloc.release()
    malloc.release()


def test_only_chains_that_run_models_tune_malloc() -> None:
    from blindpairs.cli import runs_models

    assert runs_models([["embed", "-w", "ws"]])
    assert runs_models([["tile", "s.tif", "-w", "ws"], ["embed", "-w", "ws"]])
    assert runs_models([["evaluate", "--models", "clip:ViT-B-32"]])
    assert not runs_models([["tile", "s.tif"], ["mine"], ["export"]])
    assert not runs_models([["--version"]])
    assert not runs_models([])
