"""``ingest --pull``: fetch the project's annotations (Label Studio JSON export) via the SDK."""

from __future__ import annotations

import json
from pathlib import Path

from annotation_export.client import LabelStudioError, connect, describe, find_project
from annotation_export.push import push_state_path
from blindpairs import atomic
from blindpairs.errors import ConfigError
from blindpairs.workspace import Workspace


def pulled_path(ws: Workspace) -> Path:
    return ws.label_studio / "pulled_export.json"


def pull_export(ws: Workspace, url: str, title: str, token_env: str) -> Path:
    """Download the project's JSON export into the workspace; return its path."""
    try:
        state = json.loads(push_state_path(ws).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    known_id = state.get("project_id") if state.get("url") == url else None
    client = connect(url, token_env)
    try:
        project = find_project(client, title, known_id)
        if project is None:
            raise ConfigError(
                f"no Label Studio project titled {title!r} at {url}; push first or pass "
                "--project-title"
            )
        chunks = client.projects.exports.download_sync(
            project.id, export_type="JSON", download_all_tasks=True
        )
        data = b"".join(chunks)
    except (ConfigError, LabelStudioError):
        raise
    except Exception as exc:  # the SDK raises ApiError, httpx errors
        raise LabelStudioError(f"Label Studio at {url}: {describe(exc)}") from None
    path = pulled_path(ws)
    atomic.write_bytes(path, data)
    return path
