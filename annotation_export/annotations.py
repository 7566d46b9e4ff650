"""Reading a Label Studio JSON export into tasks and annotations (nothing validated yet)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blindpairs.errors import InputError

Problem = tuple[str, str]  # (reference, reason)


@dataclass(frozen=True)
class Annotation:
    """One annotator's answer on one task, as control-tag name -> text."""

    task_id: str
    annotation_id: str
    annotator: str
    created_at: str
    updated_at: str
    cancelled: bool
    fields: dict[str, str]
    problems: tuple[str, ...] = ()

    def order_key(self) -> tuple[str, str, str]:
        """Sort key: oldest first (updated, created, id)."""
        return (self.updated_at or self.created_at, self.created_at, self.annotation_id.zfill(12))


@dataclass(frozen=True)
class Task:
    """One exported task with its annotations."""

    task_id: str
    data: dict[str, Any]
    annotations: tuple[Annotation, ...]

    @property
    def pair_id(self) -> str:
        return str(self.data.get("pair_id") or "")


def _value_text(item: dict[str, Any]) -> str:
    value = item.get("value")
    if not isinstance(value, dict):
        raise ValueError("result value is not an object")
    for key in ("choices", "text"):
        if key in value:
            parts = value[key]
            if isinstance(parts, str):
                parts = [parts]
            if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
                raise ValueError(f"result {key} is not a list of strings")
            return " ".join(p.strip() for p in parts if p.strip())
    raise ValueError("result has neither choices nor text")


def _annotator(raw: dict[str, Any]) -> str:
    who = raw.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    return "" if who is None else str(who)


def parse_annotation(task_id: str, raw: Any, position: int) -> Annotation:
    """One annotation; malformed result entries become ``problems``."""
    if not isinstance(raw, dict):
        return Annotation(task_id, f"#{position}", "", "", "", False, {}, ("not an object",))
    fields: dict[str, str] = {}
    problems: list[str] = []
    result = raw.get("result")
    if not isinstance(result, list):
        problems.append("result is missing or not a list")
        result = []
    for i, item in enumerate(result):
        name = item.get("from_name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            problems.append(f"result entry {i} has no from_name")
            continue
        try:
            fields[name] = _value_text(item)
        except ValueError as exc:
            problems.append(f"result entry {i} ({name}): {exc}")
    return Annotation(
        task_id=task_id,
        annotation_id=str(raw.get("id", f"#{position}")),
        annotator=_annotator(raw),
        created_at=str(raw.get("created_at") or ""),
        updated_at=str(raw.get("updated_at") or ""),
        cancelled=bool(raw.get("was_cancelled")),
        fields=fields,
        problems=tuple(problems),
    )


def parse_tasks(raw: Any, source: str) -> tuple[list[Task], list[Problem]]:
    """Tasks of an export; tasks that cannot be read are listed with their reason."""
    if not isinstance(raw, list):
        raise InputError(source, "expected a JSON list of tasks (Label Studio 'JSON' export)")
    tasks: list[Task] = []
    problems: list[Problem] = []
    for i, item in enumerate(raw):
        ref = f"task #{i}"
        if not isinstance(item, dict):
            problems.append((ref, "task is not an object"))
            continue
        task_id = str(item.get("id", f"#{i}"))
        ref = f"task {task_id}"
        data = item.get("data")
        if not isinstance(data, dict):
            problems.append((ref, "task has no data object"))
            continue
        if not isinstance(data.get("pair_id"), str) or not data["pair_id"]:
            problems.append((ref, "task has no data.pair_id"))
            continue
        anns = item.get("annotations", [])
        if not isinstance(anns, list):
            problems.append((ref, "annotations is not a list"))
            continue
        parsed = tuple(parse_annotation(task_id, a, j) for j, a in enumerate(anns))
        tasks.append(Task(task_id, data, parsed))
    return tasks, problems


def load_export(path: Path) -> tuple[list[Task], list[Problem]]:
    """Read a Label Studio JSON export file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(path), "annotations file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(str(path), f"not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError(str(path), "not a Label Studio export: JSON nested too deeply") from None
    return parse_tasks(raw, str(path))
