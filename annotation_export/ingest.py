"""The ingest stage: validate annotations, apply errata, publish ``benchmark/``."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotation_export.annotations import Task, load_export
from annotation_export.errata import Errata, apply_erratum, load_errata
from annotation_export.export import read_meta, tasks_path
from annotation_export.images import check_url, tile_images
from annotation_export.inputs import read_tile_rows
from annotation_export.params import IngestParams
from annotation_export.policy import POLICIES, Decision
from annotation_export.publish import (
    assign_numbers,
    clean_stale,
    previous_numbers,
    publish,
)
from annotation_export.report import IngestReport, verdict_entry
from annotation_export.tasks import read_tasks
from annotation_export.validation import Item, validate
from blindpairs import atomic, freshness, lock
from blindpairs.config import to_dict
from blindpairs.errors import ConfigError, InputError, WorkspaceError
from blindpairs.schemas import read_metadata
from blindpairs.workspace import Workspace

if TYPE_CHECKING:
    from blindpairs.compute import Compute

FORMAT_VERSION = 2  # 2: Image feature + MMVP columns, MMVP Images/, lmms-eval and VLMEvalKit files
# Where the annotations came from and whether to publish regardless: not part of
# the fingerprint (the annotation bytes themselves are hashed).
NOT_FINGERPRINTED = ("annotations", "pull", "project_title", "token_env", "force")
MINING_KEYS = (
    "clip_encoder",
    "clip_weights",
    "dino_encoder",
    "dino_weights",
    "tau_clip",
    "tau_dino",
    "random_weights",
)
SIDES = (("image_a", "tile_a"), ("image_b", "tile_b"))


def report_path(ws: Workspace) -> Path:
    return ws.root / "annotation" / "ingest_report.json"


def default_errata(ws: Workspace) -> Path:
    return ws.root / "annotation" / "errata.yaml"


def check_random_weights(
    ws: Workspace, params: IngestParams, meta: dict[str, Any], tasks: list[dict]
) -> bool:
    """Whether any exported pair came from random-weight encoders; refuse unless allowed.

    Any one is enough: the export's (sticky) flag, a task's own flag in the
    trusted tasks.json, or the current pairs file.
    """
    random = bool(meta.get("random_weights")) or any(t["data"].get("random_weights") for t in tasks)
    if ws.pairs.is_file():
        try:
            random = random or bool(read_metadata(ws.pairs).get("random_weights"))
        except (OSError, ValueError) as exc:  # pyarrow's errors subclass these
            raise InputError(str(ws.pairs), f"cannot read its metadata: {exc}") from None
    if random and not params.allow_random_weights:
        raise ConfigError(
            f"{ws.label_studio}: exported pairs were mined with random-weight encoders, so the "
            "benchmark "
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


def _up_to_date(ws: Workspace, fingerprint: str) -> bool:
    """The published benchmark was made from exactly these inputs (its provenance says so)."""
    stamp = freshness.Stamp(ws.provenance, (ws.benchmark_file,), key="inputs")
    return stamp.is_fresh(fingerprint)


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


def _fingerprinted(params: IngestParams) -> dict[str, Any]:
    return {k: v for k, v in to_dict(params).items() if k not in NOT_FINGERPRINTED}


def _urls_match(ws: Workspace, tasks: list[Task], trusted: dict, report: IngestReport) -> bool:
    """Cross-check every task's image URLs against the pair's trusted tile ids."""
    for task in tasks:
        try:
            for image_key, tile_key in SIDES:
                check_url(task.data.get(image_key), ws, trusted[tile_key])
        except ValueError as exc:
            report.left_out("bad_tasks", task.pair_id, f"{image_key}: {exc}", task_id=task.task_id)
            return False
    return True


def _pair_images(
    ws: Workspace, accepted: dict[str, tuple[Item, dict]], exported: dict, report: IngestReport
) -> dict[str, tuple[bytes, bytes]]:
    """Both images of each accepted pair by its trusted tile ids; pairs lacking one go."""
    wanted = {exported[pid][k] for pid in accepted for _, k in SIDES}
    found = tile_images(ws, wanted)
    out: dict[str, tuple[bytes, bytes]] = {}
    for pid in list(accepted):
        tiles = [exported[pid][k] for _, k in SIDES]
        lost = [t for t in tiles if t not in found]
        if lost:
            reason = f"no PNG image of tile(s) {', '.join(lost)} (neither exported nor in tiles/)"
            report.left_out("bad_tasks", pid, reason)
            del accepted[pid]
            continue
        out[pid] = (found[tiles[0]], found[tiles[1]])
    return out


def _mining(exported: dict, pids: Iterable[str]) -> list[dict[str, Any]]:
    """Distinct encoders/weights/thresholds of the published pairs, with pair counts."""
    counts = Counter(tuple(exported[pid].get(k) for k in MINING_KEYS) for pid in pids)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return [{**dict(zip(MINING_KEYS, key, strict=True)), "pairs": n} for key, n in ranked]


def _scenes(ws: Workspace, rows: list[dict]) -> list[tuple[str, str, int]]:
    tiles = read_tile_rows(ws, {r["tile_id"] for r in rows}, with_image=False)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        t = tiles.get(r["tile_id"], {})
        counts[(str(t.get("scene_id", "?")), str(t.get("scene_uri", "?")))] += 1
    return [(s, u, n) for (s, u), n in sorted(counts.items())]


def _inputs_fingerprint(
    ws: Workspace, params: IngestParams, raw: bytes, errata: Errata | None
) -> str:
    """What decides the published benchmark: the annotations, the tasks, options and errata."""
    return freshness.content_digest(
        raw,
        tasks_path(ws).read_bytes(),
        json.dumps(
            [_fingerprinted(params), FORMAT_VERSION, errata.sha256 if errata else ""]
        ).encode(),
    )


def _errata_problems(
    errata: Errata | None, exported_tasks: list[dict], report: IngestReport
) -> None:
    """Record unusable errata entries and errata for pairs never exported."""
    if not errata:
        return
    for ref, reason in errata.problems:
        report.left_out("bad_tasks", "", reason, errata=ref)
    for pid in sorted(set(errata.entries) - {t["data"]["pair_id"] for t in exported_tasks}):
        report.left_out("bad_tasks", pid, "erratum for an unknown pair id", errata=errata.source)


@dataclass(frozen=True)
class Exported:
    """The exported pairs in export order, their trusted task data, and their annotated tasks."""

    order: list[str]
    data: dict[str, dict]
    tasks: dict[str, list[Task]]


def _accept(
    ws: Workspace,
    params: IngestParams,
    errata: Errata | None,
    exported: Exported,
    report: IngestReport,
) -> dict[str, tuple[Item, dict]]:
    """The pairs whose annotations pass validation, the policy, the errata and the URL
    check, in export order, each with its provenance."""
    policy = POLICIES[params.policy]
    accepted: dict[str, tuple[Item, dict]] = {}
    for pid in exported.order:
        if pid not in exported.tasks:
            continue
        verdicts = [validate(a) for task in exported.tasks[pid] for a in task.annotations]
        decision = policy(verdicts, params.min_annotations)
        _record(report, pid, decision)
        if decision.status != "valid" or decision.chosen is None or decision.chosen.item is None:
            continue
        item, erratum = _apply_errata(pid, decision.chosen.item, errata, report)
        if item is None:
            continue
        if not _urls_match(ws, exported.tasks[pid], exported.data[pid], report):
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
        accepted[pid] = (item, prov)
    return accepted


@lock.locked("ingest")
def ingest_workspace(ws: Workspace, params: IngestParams, source: Path) -> IngestReport:
    """Validate the annotations in ``source`` and publish ``<workspace>/benchmark/``."""
    clean_stale(ws)  # first: a swap cut short by a kill is rolled back before anything is read
    exported_tasks = read_tasks(tasks_path(ws))
    if not exported_tasks:
        raise WorkspaceError(f"{tasks_path(ws)}: no exported tasks; run `blindpairs export` first")
    meta = read_meta(ws)
    random = check_random_weights(ws, params, meta, exported_tasks)
    errata = errata_for(ws, params)
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise InputError(str(source), f"cannot read annotations: {exc.strerror}") from None
    fingerprint = _inputs_fingerprint(ws, params, raw, errata)
    report = IngestReport(source=str(source), policy=params.policy)
    if not params.force and _up_to_date(ws, fingerprint):
        report.up_to_date = True
        return report
    tasks, problems = load_export(source)
    for ref, reason in problems:
        report.left_out("bad_tasks", "", reason, task=ref)
    _errata_problems(errata, exported_tasks, report)
    exported = {t["data"]["pair_id"]: t["data"] for t in exported_tasks}
    by_pair = _group(tasks, exported, report)
    order = [t["data"]["pair_id"] for t in exported_tasks]  # export order = best first
    accepted = _accept(ws, params, errata, Exported(order, exported, by_pair), report)
    images = _pair_images(ws, accepted, exported, report)
    numbers = assign_numbers(previous_numbers(ws.benchmark), list(accepted))
    rows: list[dict] = []
    for pid in sorted(accepted, key=numbers.__getitem__):
        item, _ = accepted[pid]
        rows.extend(_rows(pid, numbers[pid], item, exported[pid], images[pid]))
    report.published = [r["pair_id"] for r in rows[::2]]
    info = {
        "license": params.license,
        "policy": params.policy,
        "random_weights": random,
        "pairs_meta": meta.get("pairs", {}),
        "mining": _mining(exported, accepted),
        "errata_applied": sum(1 for p in accepted.values() if p[1]["errata"]),
        "scenes": _scenes(ws, rows),
    }
    provenance = {
        "inputs": fingerprint,
        "source": str(source),
        "policy": params.policy,
        "pair_numbers": numbers,
        "pairs": {pid: accepted[pid][1] for pid in accepted},
    }
    if rows:  # an empty benchmark is never published over an earlier one
        publish(ws, rows, info, provenance)
    atomic.write_json(report_path(ws), report.to_json())
    return report


def run(workspace: Workspace | str | Path, params: IngestParams, compute: Compute) -> IngestReport:
    """The ingest stage: validate annotations (``params.annotations``, or pulled from
    ``params.pull``) and publish ``<workspace>/benchmark/``. ``compute`` is unused."""
    from annotation_export.client import api_token
    from annotation_export.pull import pull_export

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    if bool(params.annotations) == bool(params.pull):
        raise ConfigError("give exactly one of --annotations FILE or --pull URL")
    if params.pull:
        api_token(params.token_env)
        source = pull_export(ws, params.pull, params.project_title, params.token_env)
    else:
        source = Path(params.annotations or "")
    return ingest_workspace(ws, params, source)
