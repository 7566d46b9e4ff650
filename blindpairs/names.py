"""Names that become paths: made safe (:func:`slug`) or checked (:func:`check_name`).

Every name that ends up as a file or folder name (scene ids, encoder ids, model
ids, run names) goes through one of these, so that every write stays inside the
workspace: a safe name is one path component of letters, digits, ``.``, ``_``
and ``-``, not starting with ``.`` (so never ``.`` or ``..``, never hidden) or
``-`` (never an option, never a spreadsheet formula), at most
:data:`MAX_LENGTH` characters.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from blindpairs.errors import ConfigError

MAX_LENGTH = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_UNSAFE_FREE = re.compile(r"[A-Za-z0-9._-]+")
_LEADING = re.compile(r"^[._-]+")
_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


def slug(text: str) -> str:
    """A safe file name made from ``text``; safe names come back unchanged.

    Runs of other characters become ``_``; leading ``.``, ``_``, ``-`` and trailing ``_`` go; a name
    longer than :data:`MAX_LENGTH` is cut and ends with a hash of the whole.
    """
    name = _LEADING.sub("", _UNSAFE.sub("_", text)).rstrip("_") or "_"
    if len(name) > MAX_LENGTH:
        digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        name = f"{name[: MAX_LENGTH - 13]}-{digest}"
    return name


def problem(name: str) -> str | None:
    """Why ``name`` is not a safe file name, or None when it is."""
    if not name:
        return "is empty"
    if len(name) > MAX_LENGTH:
        return f"is longer than {MAX_LENGTH} characters"
    if name in (".", "..") or "/" in name or "\\" in name:
        return "is a path, not a name"
    if not _SAFE.fullmatch(name):
        return "may hold only letters, digits, '.', '_' and '-', and not start with '.' or '-'"
    return None


def is_component(text: str) -> bool:
    """Whether ``text`` is made only of safe characters (``part-<text>`` is then one safe
    file name, even when ``text`` itself starts with a dot)."""
    return bool(_UNSAFE_FREE.fullmatch(text)) and len(text) <= MAX_LENGTH


def check_name(name: str, what: str = "name") -> str:
    """``name`` when it is safe; ConfigError (a ValueError) saying why, with a safe one."""
    why = problem(name)
    if why is not None:
        raise ConfigError(f"{what} {name!r} {why} (e.g. {slug(name)!r})")
    return name


def child(folder: Path, name: str, what: str = "name") -> Path:
    """``folder / name`` for a checked ``name``: always directly inside ``folder``."""
    return Path(folder) / check_name(name, what)
