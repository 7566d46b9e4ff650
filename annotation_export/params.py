"""Options of the export and ingest stages (flags, config sections, resolved config)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blindpairs.config import env_name, option, positive_int

TOKEN_ENV = "LABEL_STUDIO_API_KEY"
POLICIES = ("agreement", "latest")


def optional_text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if text.lower() in ("", "none", "null") else text


def http_url(value: Any) -> str | None:
    text = optional_text(value)
    if text is not None and not text.startswith(("http://", "https://")):
        raise ValueError(f"expected an http(s) URL such as http://127.0.0.1:8080, got {value!r}")
    return text.rstrip("/") if text else None


@dataclass(frozen=True)
class ExportParams:
    """Which pairs go to annotators and where."""

    budget: int = option(
        150, "most new pairs to add per export, best first (MMVP has 150)", parse=positive_int
    )
    document_root: str | None = option(
        None,
        "folder Label Studio serves local files from (LOCAL_FILES_DOCUMENT_ROOT); "
        "must contain the workspace (default: the workspace itself)",
        parse=optional_text,
        metavar="DIR",
    )
    push: str | None = option(
        None,
        "push the tasks to the Label Studio server at this URL (creates or updates the "
        "project, connects local file storage, adds only new tasks)",
        parse=http_url,
        metavar="URL",
    )
    project_title: str = option(
        "blindpairs", "title of the Label Studio project created or updated by --push"
    )
    token_env: str = option(
        TOKEN_ENV,
        "environment variable holding the Label Studio API token (never logged)",
        parse=env_name,
        metavar="NAME",
    )


@dataclass(frozen=True)
class IngestParams:
    """How finished annotations become the published benchmark."""

    annotations: str | None = option(
        None,
        "Label Studio JSON export file to ingest (default: pull through --pull)",
        parse=optional_text,
        metavar="FILE",
    )
    pull: str | None = option(
        None,
        "pull the annotations from the Label Studio server at this URL (project of the last "
        "push, else --project-title)",
        parse=http_url,
        metavar="URL",
    )
    project_title: str = option("blindpairs", "title of the Label Studio project to pull from")
    token_env: str = option(
        TOKEN_ENV,
        "environment variable holding the Label Studio API token (never logged)",
        parse=env_name,
        metavar="NAME",
    )
    policy: str = option(
        "agreement",
        "tasks with several annotations: agreement (all must agree, else left out and "
        "reported) or latest (the most recent annotation decides)",
        choices=POLICIES,
    )
    min_annotations: int = option(
        1, "annotations a task needs before it is published", parse=positive_int
    )
    errata: str | None = option(
        None,
        "errata file (YAML/JSON) keyed by pair id (default: <workspace>/annotation/errata.yaml "
        "when it exists)",
        parse=optional_text,
        metavar="FILE",
    )
    license: str = option(
        "other", "licence of the published benchmark (dataset card field, e.g. cc-by-4.0)"
    )
    allow_random_weights: bool = option(
        False, "publish even though the pairs were mined with random-weight encoders"
    )
    force: bool = option(False, "publish again even when nothing changed")
