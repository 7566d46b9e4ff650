"""Exceptions. Each subclasses a builtin so callers can catch either."""

from __future__ import annotations


class BlindpairsError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(BlindpairsError, ValueError):
    """Bad options or configuration; raised before any work starts."""


class InputError(BlindpairsError, ValueError):
    """A bad input file; the message names the file and the problem."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class WorkspaceError(BlindpairsError, RuntimeError):
    """The workspace lacks what a stage needs (e.g. an earlier stage never ran)."""
