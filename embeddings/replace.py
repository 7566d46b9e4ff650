"""``--replace`` without losing anything: old parts are set aside, deleted only after success.

The parts of another embedding (and the failures file) move to
``<encoder folder>/_replaced/`` while the new embedding is computed. When the
run completes they are deleted; when it fails (a bad checkpoint, missing
weights, an interrupt) the parts written by the run are removed and the old
ones are moved back, so the folder is as it was.

A run killed outright (SIGKILL, power loss) leaves ``_replaced/`` behind; the
next embed run recovers first (:func:`recover`): it resumes the replacement
when it asks for the same new embedding, and rolls it back otherwise.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from blindpairs.schemas import read_metadata
from blindpairs.workspace import REPLACED
from embeddings import store

log = logging.getLogger(__name__)

BACKUP = REPLACED


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


def recover(encoder_dir: Path, wanted: Mapping[str, Any]) -> str | None:
    """Deal with a ``_replaced/`` left by a killed ``--replace``; return what was done.

    ``"resumed"`` when the folder holds only the new embedding ``wanted`` (and old
    parts not yet set aside): the run goes on and :func:`finish_all` deletes the old
    parts once it completes. ``"rolled back"`` otherwise: the new parts go and the
    old ones come back, as after a failed run. None when there is nothing to do.
    """
    folder = Path(encoder_dir)
    backup = backup_dir(folder)
    if not backup.is_dir():
        return None
    old = store.parts(backup)
    old_key = store.identity_key(read_metadata(old[0])) if old else None
    want = store.identity_key(wanted)
    current = {part: store.identity_key(read_metadata(part)) for part in store.parts(folder)}
    if want != old_key and set(current.values()) <= {want, old_key}:
        log.warning("%s: resuming an interrupted --replace", folder)
        return "resumed"
    for part, key in current.items():
        if key != old_key:
            part.unlink()
    if (backup / store.FAILURES).exists():
        (folder / store.FAILURES).unlink(missing_ok=True)
    for path in backup.iterdir():
        os.replace(path, folder / path.name)
    backup.rmdir()
    log.warning("%s: rolled back an interrupted --replace (%d part(s) restored)", folder, len(old))
    return "rolled back"


def finish_all(encoder_dirs: Iterable[Path]) -> None:
    """Delete the old parts of resumed ``--replace`` runs once the embed run has completed
    (only a resumed one still has ``_replaced/`` then: :func:`recover`)."""
    for folder in encoder_dirs:
        backup = backup_dir(folder)
        if backup.is_dir():
            log.info("--replace: deleting the replaced parts in %s", backup)
            shutil.rmtree(backup)
