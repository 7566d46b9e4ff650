"""``--replace`` without losing anything: old parts are set aside, deleted only after success.

The parts of another embedding (and the failures file) move to
``<encoder folder>/_replaced/`` while the new embedding is computed. When the
run completes they are deleted; when it fails (a bad checkpoint, missing
weights, an interrupt) the parts written by the run are removed and the old
ones are moved back, so the folder is as it was.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from embeddings import store

log = logging.getLogger(__name__)

BACKUP = "_replaced"


def backup_dir(encoder_dir: Path) -> Path:
    return Path(encoder_dir) / BACKUP


@contextlib.contextmanager
def set_aside(encoder_dir: Path, stale: Sequence[Path]) -> Iterator[None]:
    """Move ``stale`` parts out of the way for the block; restore them if it raises."""
    if not stale:
        yield
        return
    folder = Path(encoder_dir)
    backup = backup_dir(folder)
    backup.mkdir(exist_ok=True)
    failures = folder / store.FAILURES
    moved = [p for p in (*stale, failures) if p.exists()]
    for path in moved:
        os.replace(path, backup / path.name)
    kept = set(store.parts(folder))
    try:
        yield
    except BaseException:
        for part in store.parts(folder):
            if part not in kept:
                part.unlink(missing_ok=True)
        failures.unlink(missing_ok=True)
        for path in moved:
            os.replace(backup / path.name, path)
        with contextlib.suppress(OSError):  # left in place if it holds older leftovers
            backup.rmdir()
        log.warning("--replace failed: restored %d earlier file(s) in %s", len(moved), folder)
        raise
    log.info("--replace: deleting %d replaced file(s) of %s", len(moved), folder)
    shutil.rmtree(backup)
