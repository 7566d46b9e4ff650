"""Connecting to Label Studio through ``label-studio-sdk`` (imported lazily)."""

from __future__ import annotations

import os
from typing import Any

from blindpairs.errors import BlindpairsError, ConfigError


class LabelStudioError(BlindpairsError, RuntimeError):
    """A Label Studio server refused or failed a request."""


def api_token(env_name: str) -> str:
    """The API token from ``$env_name``; fails before any work when it is not set."""
    token = os.environ.get(env_name, "").strip()
    if not token:
        raise ConfigError(
            f"no Label Studio API token: set ${env_name} (Account & Settings > Access Token "
            "in Label Studio) or name another variable with --token-env"
        )
    return token


def connect(url: str, env_name: str) -> Any:
    """A ``LabelStudio`` client for ``url``; the token is read from the environment only."""
    try:
        from label_studio_sdk import LabelStudio
    except ImportError:
        raise ConfigError(
            "label-studio-sdk is not installed: pip install 'blindpairs[annotation]'"
        ) from None
    return LabelStudio(base_url=url, api_key=api_token(env_name), timeout=120)


def describe(exc: Exception) -> str:
    """A short reason for a failed SDK call, without headers or tokens."""
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    text = str(body if body is not None else exc)
    text = text if len(text) < 300 else text[:297] + "..."
    return f"HTTP {status}: {text}" if status else f"{type(exc).__name__}: {text}"


def find_project(client: Any, title: str, project_id: int | None) -> Any | None:
    """The project with ``project_id`` (when it still exists), else the one titled ``title``."""
    if project_id is not None:
        try:
            return client.projects.get(id=project_id)
        except Exception:  # noqa: BLE001 - a deleted project: fall back to the title
            pass
    for project in client.projects.list(title=title):
        if project.title == title:
            return project
    return None


def project_pair_ids(client: Any, project_id: int) -> set[str]:
    """The ``data.pair_id`` of every task already in the project."""
    ids: set[str] = set()
    for task in client.tasks.list(project=project_id, fields="all", page_size=500):
        data = getattr(task, "data", None) or {}
        if data.get("pair_id"):
            ids.add(str(data["pair_id"]))
    return ids
