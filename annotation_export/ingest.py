"""The ingest stage: validate annotations, apply errata, publish ``benchmark/``."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any

from annotation_export.annotations import Task, load_export
from annotation_export.errata import Errata, apply_erratum, load_errata
from annotation_export.export import meta_path, tasks_path
from annotation_export.images import read_task_image
from annotation_export.inputs import read_tile_rows
from annotation_export.params import IngestParams
from annotation_export.policy import POLICIES, Decision
from annotation_export.publish import PROVENANCE, assign_numbers, previous_numbers, publish
from annotation_export.report import IngestReport, verdict_entry
from annotation_export.tasks import read_tasks
from annotation_export.validation import Item, validate
from blindpairs import atomic
from blindpairs.config import to_dict
from blindpairs.errors import ConfigError, InputError, WorkspaceError
from blindpairs.schemas import read_metadata
from blindpairs.workspace import Workspace

FORMAT_VERSION = 1


def report_path(ws: Workspace) -> Path:
    return ws.root / "annotation" / "ingest_report.json"


def default_errata(ws: Workspace) -> Path:
    return ws.root / "annotation" / "errata.yaml"


def _export_meta(ws: Workspace) -> dict[str, Any]:
    try:
        return json.loads(meta_path(ws).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def check_random_weights(ws: Workspace, params: IngestParams, meta: dict[str, Any]) -> bool:
    """Whether the pairs came from random-weight encoders; refuse unless allowed."""
    random = bool(meta.get("random_weights"))
    if ws.pairs.is_file():
        try:
            random = random or bool(read_metadata(ws.pairs).get("random_weights"))
        except (OSError, ValueError) as exc:  # pyarrow's errors subclass these
            raise InputError(str(ws.pairs), f"cannot read its metadata: {exc}") from None
    if random and not params.allow_random_weights:
        raise ConfigError(
            f"{ws.pairs}: the pairs were mined with random-weight encoders, so the benchmark "
            "would be meaningless; re-run embed and mine with real weights, or pass "
            "--allow-random-weights to publish test data"
        )
    return random


def errata_for(ws: Workspace, params: IngestParams) -> Errata | None:
    """The errata file given, or the default one when it exists."""
    if params.errata:
        return load_errata(Path(params.errata))
    path = default_errata(ws)
    return load_errata(path) if path.is_file() else None


def _fingerprint(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()


def _up_to_date(ws: Workspace, fingerprint: str) -> bool:
    try:
        prov = json.loads((ws.benchmark / PROVENANCE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return prov.get("inputs") == fingerprint and (ws.benchmark / "benchmark.parquet").is_file()


def _group(
    tasks: list[Task], exported: dict[str, dict], report: IngestReport
) -> dict[str, list[Task]]:
    by_pair: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        pid = task.pair_id
        known = exported.get(pid)
        if known is None:
            report.left_out(
                "bad_tasks", pid, "unknown pair id: not in tasks.json", task_id=task.task_id
            )
            continue
        tiles = (task.data.get("tile_a"), task.data.get("tile_b"))
        if tiles != (known["tile_a"], known["tile_b"]):
            report.left_out(
                "bad_tasks", pid, f"tile ids {tiles} differ from the export", task_id=task.task_id
            )
            continue
        by_pair[pid].append(task)
    return by_pair


def _record(report: IngestReport, pid: str, decision: Decision) -> None:
    entries = [verdict_entry(v) for v in decision.considered]
    kind = {"invalid": "invalid", "disagreement": "disagreements", "pending": "pending"}
    if decision.status == "rejected":
        report.left_out("rejected", pid, decision.reason, annotations=entries)
    elif decision.status in kind:
        report.left_out(kind[decision.status], pid, decision.reason, annotations=entries)


def _apply_errata(
    pid: str, item: Item, errata: Errata | None, report: IngestReport
) -> tuple[Item | None, dict | None]:
    erratum = errata.entries.get(pid) if errata else None
    if erratum is None:
        return item, None
    try:
        fixed, changes = apply_erratum(item, erratum)
    except ValueError as exc:
        report.left_out("invalid", pid, f"erratum: {exc}")
        return None, None
    record = {"changes": changes, "drop": erratum.drop, **erratum.provenance}
    record["source"] = errata.source if errata else ""
    report.errata.append({"pair_id": pid, **record})
    return fixed, record


def _rows(pid: str, number: int, item: Item, data: dict, images: tuple[bytes, bytes]) -> list:
    base = {"pair_id": pid, "question": item.question, "option_a": item.option_a}
    base.update(option_b=item.option_b, category=item.category)
    return [
        {
            **base,
            "index": 2 * number - 1,
            "image": images[0],
            "answer": item.answer_a,
            "tile_id": data["tile_a"],
        },
        {
            **base,
            "index": 2 * number,
            "image": images[1],
            "answer": item.answer_b,
            "tile_id": data["tile_b"],
        },
    ]


def _scenes(ws: Workspace, rows: list[dict]) -> list[tuple[str, str, int]]:
    tiles = read_tile_rows(ws, {r["tile_id"] for r in rows}, with_image=False)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        t = tiles.get(r["tile_id"], {})
        counts[(str(t.get("scene_id", "?")), str(t.get("scene_uri", "?")))] += 1
    return [(s, u, n) for (s, u), n in sorted(counts.items())]


def ingest_workspace(ws: Workspace, params: IngestParams, source: Path) -> IngestReport:
    """Validate the annotations in ``source`` and publish ``<workspace>/benchmark/``."""
    exported_tasks = read_tasks(tasks_path(ws))
    if not exported_tasks:
        raise WorkspaceError(f"{tasks_path(ws)}: no exported tasks; run `blindpairs export` first")
    meta = _export_meta(ws)
    random = check_random_weights(ws, params, meta)
    errata = errata_for(ws, params)
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise InputError(str(source), f"cannot read annotations: {exc.strerror}") from None
    fingerprint = _fingerprint(
        raw,
        tasks_path(ws).read_bytes(),
        json.dumps([to_dict(params), FORMAT_VERSION, errata.sha256 if errata else ""]).encode(),
    )
    report = IngestReport(source=str(source), policy=params.policy)
    if not params.force and _up_to_date(ws, fingerprint):
        report.up_to_date = True
        return report
    tasks, problems = load_export(source)
    for ref, reason in problems:
        report.left_out("bad_tasks", "", reason, task=ref)
    if errata:
        for ref, reason in errata.problems:
            report.left_out("bad_tasks", "", reason, errata=ref)
        for pid in sorted(set(errata.entries) - {t["data"]["pair_id"] for t in exported_tasks}):
            report.left_out(
                "bad_tasks", pid, "erratum for an unknown pair id", errata=errata.source
            )
    exported = {t["data"]["pair_id"]: t["data"] for t in exported_tasks}
    by_pair = _group(tasks, exported, report)
    document_root = Path(meta.get("document_root") or ws.root)
    policy = POLICIES[params.policy]
    accepted: dict[str, tuple[Item, tuple[bytes, bytes], dict]] = {}
    for pid in (t["data"]["pair_id"] for t in exported_tasks):  # export order = best first
        if pid not in by_pair:
            continue
        verdicts = [validate(a) for task in by_pair[pid] for a in task.annotations]
        decision = policy(verdicts, params.min_annotations)
        _record(report, pid, decision)
        if decision.status != "valid" or decision.chosen is None or decision.chosen.item is None:
            continue
        item, erratum = _apply_errata(pid, decision.chosen.item, errata, report)
        if item is None:
            continue
        data = by_pair[pid][-1].data
        try:
            images = tuple(
                read_task_image(data.get(k), document_root, ws.root) for k in ("image_a", "image_b")
            )
        except ValueError as exc:
            report.left_out("bad_tasks", pid, str(exc), task_id=by_pair[pid][-1].task_id)
            continue
        chosen = decision.chosen.annotation
        prov = {
            "task_id": chosen.task_id,
            "annotation_id": chosen.annotation_id,
            "annotator": chosen.annotator,
            "updated_at": chosen.updated_at or chosen.created_at,
            "annotations": [verdict_entry(v) for v in decision.considered],
            "as_annotated": asdict(decision.chosen.item),
            "errata": erratum,
        }
        accepted[pid] = (item, images, prov)  # type: ignore[assignment]
    numbers = assign_numbers(previous_numbers(ws.benchmark), list(accepted))
    rows: list[dict] = []
    for pid in sorted(accepted, key=numbers.__getitem__):
        item, images, _ = accepted[pid]
        rows.extend(_rows(pid, numbers[pid], item, exported[pid], images))
    report.published = [r["pair_id"] for r in rows[::2]]
    info = {
        "license": params.license,
        "policy": params.policy,
        "random_weights": random,
        "pairs_meta": meta.get("pairs", {}),
        "errata_applied": sum(1 for p in accepted.values() if p[2]["errata"]),
        "scenes": _scenes(ws, rows),
    }
    provenance = {
        "inputs": fingerprint,
        "source": str(source),
        "policy": params.policy,
        "pair_numbers": numbers,
        "pairs": {pid: accepted[pid][2] for pid in accepted},
    }
    if rows:  # an empty benchmark is never published over an earlier one
        publish(ws, rows, info, provenance)
    atomic.write_json(report_path(ws), report.to_json())
    return report
