"""``export --push``: create or update the Label Studio project and add only new tasks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotation_export.client import (
    LabelStudioError,
    connect,
    describe,
    find_project,
    project_pair_ids,
)
from annotation_export.labeling_config import labeling_config
from annotation_export.tasks import read_tasks
from blindpairs import atomic
from blindpairs.workspace import Workspace

log = logging.getLogger(__name__)
STORAGE_TITLE = "blindpairs tile images"


@dataclass(frozen=True)
class PushSummary:
    """What one push did."""

    url: str
    project_id: int
    created: bool
    imported: int
    already: int
    storage_created: bool


def push_state_path(ws: Workspace) -> Path:
    return ws.label_studio / "push.json"


def _read_state(ws: Workspace) -> dict[str, Any]:
    import json

    try:
        return json.loads(push_state_path(ws).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _ensure_project(client: Any, title: str, project_id: int | None) -> tuple[Any, bool]:
    config = labeling_config()
    project = find_project(client, title, project_id)
    if project is None:
        project = client.projects.create(
            title=title,
            label_config=config,
            description="CLIP-blind pairs: write one question whose answer differs between A and B",
        )
        return project, True
    if (project.label_config or "").strip() != config.strip():
        client.projects.update(id=project.id, label_config=config)
    return project, False


def _ensure_storage(client: Any, project_id: int, images: Path) -> bool:
    path = str(images.resolve())
    for storage in client.import_storage.local.list(project=project_id):
        if str(storage.path).rstrip("/") == path:
            return False
    client.import_storage.local.create(
        project=project_id,
        path=path,
        title=STORAGE_TITLE,
        regex_filter=r".*\.png$",
        use_blob_urls=True,
    )
    return True


def push_tasks(ws: Workspace, url: str, title: str, token_env: str) -> PushSummary:
    """Push ``tasks.json`` to the server at ``url``; tasks already there are not added again."""
    tasks = read_tasks(ws.tasks)
    state = _read_state(ws)
    known_id = state.get("project_id") if state.get("url") == url else None
    client = connect(url, token_env)
    try:
        project, created = _ensure_project(client, title, known_id)
        atomic.write_json(push_state_path(ws), {"url": url, "project_id": project.id})
        storage_created = _ensure_storage(client, project.id, ws.label_studio / "images")
        present = project_pair_ids(client, project.id)
        new = [t for t in tasks if t["data"]["pair_id"] not in present]
        if new:
            client.projects.import_tasks(id=project.id, request=new)
    except LabelStudioError:
        raise
    except Exception as exc:  # the SDK raises ApiError, httpx errors, pydantic errors
        raise LabelStudioError(f"Label Studio at {url}: {describe(exc)}") from None
    log.info("pushed %d new task(s) to project %s at %s", len(new), project.id, url)
    return PushSummary(url, project.id, created, len(new), len(present), storage_created)
