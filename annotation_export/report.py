"""The ingest report: everything left out, with its reason, and the disagreements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from annotation_export.validation import Verdict


def verdict_entry(v: Verdict) -> dict[str, Any]:
    """A verdict as a JSON-friendly dict (texts kept exactly as written)."""
    a = v.annotation
    entry: dict[str, Any] = {
        "task_id": a.task_id,
        "annotation_id": a.annotation_id,
        "annotator": a.annotator,
        "updated_at": a.updated_at or a.created_at,
        "kind": v.kind,
    }
    if v.item is not None:
        entry.update(vars(v.item))
    if v.rejected is not None:
        entry["reject_reason"] = v.rejected
    if v.problems:
        entry["problems"] = list(v.problems)
    return entry


@dataclass
class IngestReport:
    """What ingest published and what it left out, and why."""

    source: str = ""
    policy: str = ""
    published: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[dict[str, Any]] = field(default_factory=list)
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    bad_tasks: list[dict[str, Any]] = field(default_factory=list)
    errata: list[dict[str, Any]] = field(default_factory=list)
    up_to_date: bool = False

    def left_out(self, kind: str, pair_id: str, reason: str, **extra: Any) -> None:
        """Record a pair (or task) left out of the benchmark."""
        getattr(self, kind).append({"pair_id": pair_id, "reason": reason, **extra})

    def to_json(self) -> dict[str, Any]:
        out = dict(vars(self))
        out.pop("up_to_date")
        out["counts"] = {k: len(v) for k, v in out.items() if isinstance(v, list)}
        return out
