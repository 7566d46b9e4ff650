"""glibc malloc settings for a process that runs large CPU tensors through a model.

With glibc's defaults, a freed block over the mmap threshold (32 MiB at most)
goes back to the kernel, and so do the per-thread heaps that each Dask thread
gets. Each forward of a model then faults in its working memory afresh: one
DINOv2 ViT-S/14 forward at batch 32 took ~450,000 minor page faults (~1.8 GB
of new pages) every time, in the main thread as in a worker thread. With one
arena, no mmap for single blocks and no automatic trim, the next forward
reuses the memory of the last one (no faults once warm); the embed stage's
DINOv2 rate rose 19% in alternating ``bench/embed.py --stage`` rounds. The
tile stage did not gain (about 10% slower, more memory kept): only commands
that run models ask for these settings (``Command.runs_models``).

:func:`tune` applies those settings once per process, before its threads
allocate (the arena limit only holds for threads that have no arena yet);
:func:`release` hands the free memory back to the kernel when a stage is done
with its models. Either is a no-op off glibc, and :func:`tune` leaves malloc
alone when the environment sets any of glibc's own malloc variables (the
user's choice wins; e.g. ``MALLOC_ARENA_MAX=8`` restores glibc's per-thread
arenas).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
from collections.abc import Mapping
from functools import cache

log = logging.getLogger(__name__)

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

# parameter -> values to try in turn (glibc before 2.35 caps the mmap threshold at 32 MiB)
SETTINGS = {
    M_ARENA_MAX: (1,),  # one heap for every thread: memory freed by one is reused by all
    M_MMAP_THRESHOLD: (1 << 30, 32 << 20),  # blocks up to 1 GiB come from the heap
    M_TRIM_THRESHOLD: (-1,),  # never trim the heap on free (release() does, when asked)
}
# glibc's own settings; when one is set, the user decides and tune() does nothing
USER_VARIABLES = (
    "MALLOC_ARENA_MAX",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)


@cache
def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has ``gnu_get_libc_version``), else ``None``."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "malloc_trim"):
        return None
    return libc


def user_settings(environ: Mapping[str, str] | None = None) -> list[str]:
    """The glibc malloc variables set in ``environ`` (default: this process's)."""
    env = os.environ if environ is None else environ
    found = [name for name in USER_VARIABLES if name in env]
    if "glibc.malloc." in env.get("GLIBC_TUNABLES", ""):
        found.append("GLIBC_TUNABLES")
    return found


@cache
def tune() -> bool:
    """Apply :data:`SETTINGS` once in this process; whether they are in effect."""
    libc = _glibc()
    if libc is None:
        return False
    chosen = user_settings()
    if chosen:
        log.debug("malloc left as set by %s", ", ".join(chosen))
        return False
    applied = [any(libc.mallopt(p, v) == 1 for v in values) for p, values in SETTINGS.items()]
    return all(applied)


def release() -> None:
    """Give free heap memory back to the kernel (a no-op off glibc)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
