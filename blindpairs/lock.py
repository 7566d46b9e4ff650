"""The workspace lock: one command at a time writes a workspace.

Every stage takes ``<workspace>/.blindpairs.lock`` (an OS file lock through
``filelock``, freed by the OS when its process ends, even by SIGKILL) before it
touches anything and keeps it until the command ends. A second command on the
same workspace fails at once with a :class:`WorkspaceBusy` error that names the
holder (pid, host, command, since when), read from ``.blindpairs.lock.json``.
The lock is re-entrant within a process: a command that calls several stages
takes it once.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock, Timeout

from blindpairs.errors import WorkspaceError

LOCK_FILE = ".blindpairs.lock"
HOLDER_FILE = ".blindpairs.lock.json"

F = TypeVar("F", bound=Callable[..., Any])


class WorkspaceBusy(WorkspaceError):
    """Another process holds the workspace lock."""


# root (resolved) -> [lock, holds]: the locks this process holds
_held: dict[Path, list[Any]] = {}


def _key(root: str | os.PathLike[str]) -> Path:
    return Path(root).resolve()


def holds(path: str | os.PathLike[str]) -> bool:
    """Whether this process holds the lock of a workspace that contains ``path``."""
    target = _key(path)
    return any(target == root or root in target.parents for root in _held)


def holder(root: str | os.PathLike[str]) -> dict[str, Any]:
    """What the lock's holder wrote about itself (empty when unknown)."""
    try:
        info = json.loads((Path(root) / HOLDER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _busy_message(root: Path) -> str:
    info = holder(root)
    who = (
        f"pid {info.get('pid')} on {info.get('host')} since {info.get('since')}: "
        f"{info.get('command')}"
        if info
        else "another process (it has not said which yet)"
    )
    return (
        f"{root}: the workspace is in use by {who}; wait for that command to end, "
        "or use another --workspace (the lock goes when its process ends, even if killed)"
    )


def acquire(root: str | os.PathLike[str], command: str = "") -> None:
    """Take the lock of workspace ``root`` (created if missing) or raise WorkspaceBusy."""
    key = _key(root)
    if key in _held:
        _held[key][1] += 1
        return
    key.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(key / LOCK_FILE), timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise WorkspaceBusy(_busy_message(key)) from None
    _held[key] = [lock, 1]
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command or shlex.join(["blindpairs", *sys.argv[1:]]),
        "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    from blindpairs import atomic  # atomic asks this module whether a lock is held

    atomic.write_json(key / HOLDER_FILE, info)


def release(root: str | os.PathLike[str]) -> None:
    """Give back one hold of ``root``'s lock (the lock goes with the last one)."""
    key = _key(root)
    entry = _held.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] <= 0:
        del _held[key]
        (key / HOLDER_FILE).unlink(missing_ok=True)
        entry[0].release()


def release_all() -> None:
    """Give back every lock this process holds (the end of a command)."""
    for key in list(_held):
        _held[key][1] = 1
        release(key)


@contextlib.contextmanager
def workspace_lock(root: str | os.PathLike[str], command: str = "") -> Iterator[None]:
    """Hold the lock of workspace ``root`` for the block."""
    acquire(root, command)
    try:
        yield
    finally:
        release(root)


def locked(stage: str, *, create: bool = True) -> Callable[[F], F]:
    """Decorate a stage function whose first argument is the workspace (a Workspace or a
    path) so that it runs under the workspace lock. With ``create=False`` a workspace
    that does not exist yet is not created (the function says so itself)."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(workspace: Any, *args: Any, **kwargs: Any) -> Any:
            root = Path(getattr(workspace, "root", workspace))
            if not create and not root.is_dir():
                return fn(workspace, *args, **kwargs)
            with workspace_lock(root, f"{stage} ({shlex.join(sys.argv)})"):
                return fn(workspace, *args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap
