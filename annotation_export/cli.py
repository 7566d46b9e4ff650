"""``blindpairs export`` and ``blindpairs ingest``."""

from __future__ import annotations

import argparse

from annotation_export.params import ExportParams, IngestParams
from blindpairs.commands import Command, record_params, stage_options
from blindpairs.config import add_options
from blindpairs.workspace import Workspace

SHOWN = 10


def _show(title: str, entries: list[dict]) -> None:
    from annotation_export.text import terminal_safe

    for e in entries[:SHOWN]:
        ref = e.get("pair_id") or e.get("task") or e.get("errata") or "?"
        print(f"  {title} {terminal_safe(ref, 40)}: {terminal_safe(e.get('reason', ''))}")
    if len(entries) > SHOWN:
        print(f"  ... and {len(entries) - SHOWN} more (see annotation/ingest_report.json)")


def run_export(args: argparse.Namespace) -> int:
    """Export the best new pairs for annotation; push them when asked."""
    from annotation_export.export import run

    params, compute = stage_options(args, "export", ExportParams)
    ws = Workspace(args.workspace)
    summary = run(ws, params, compute)
    if not summary.added and not summary.failed and not summary.already:
        print(
            f"export: nothing to do; {ws.pairs} holds no pair (mine found none: add scenes, "
            "or loosen mine's --tau-clip/--tau-dino)"
        )
    elif not summary.added and not summary.failed:
        print(f"export: nothing to do; all {summary.already} pair(s) already exported")
    print(
        f"export: {len(summary.added)} pair(s) added, {summary.already} skipped as already "
        f"exported, {len(summary.failed)} failed; {summary.total_tasks} task(s) in "
        f"{ws.tasks}; {max(summary.remaining, 0)} more pair(s) not "
        "exported (budget)"
    )
    _show("failed", [{"pair_id": k, "reason": v} for k, v in summary.failed.items()])
    pushed = summary.pushed
    if pushed is not None:
        print(
            f"push: project {pushed.project_id} at {pushed.url} "
            f"({'created' if pushed.created else 'updated'}): {pushed.imported} task(s) added, "
            f"{pushed.already} already there"
        )
    record_params(args, "export", params)
    return 1 if summary.failed else 0


def run_ingest(args: argparse.Namespace) -> int:
    """Validate finished annotations and publish the benchmark."""
    from annotation_export.ingest import report_path, run

    params, compute = stage_options(args, "ingest", IngestParams)
    ws = Workspace(args.workspace)
    report = run(ws, params, compute)
    if report.up_to_date:
        print(f"ingest: nothing to do; {ws.benchmark} is up to date (--force to publish again)")
        return 0
    where = ws.benchmark if report.published else "nowhere (no usable pair; nothing written)"
    print(
        f"ingest: {len(report.published)} pair(s) published to {where}; left out: "
        f"{len(report.rejected)} rejected, {len(report.invalid)} invalid, "
        f"{len(report.disagreements)} disagreeing, {len(report.pending)} pending, "
        f"{len(report.bad_tasks)} bad task(s); {len(report.errata)} erratum/errata applied; "
        f"report: {report_path(ws)}"
    )
    _show("rejected", report.rejected)
    _show("invalid", report.invalid)
    _show("disagreement", report.disagreements)
    _show("bad", report.bad_tasks)
    record_params(args, "ingest", params)
    return 0


def _export_args(parser: argparse.ArgumentParser) -> None:
    add_options(parser, ExportParams)


def _ingest_args(parser: argparse.ArgumentParser) -> None:
    add_options(parser, IngestParams)


COMMANDS = [
    Command(
        name="export",
        help="export the best new pairs to Label Studio (files, and --push to a server)",
        description="Write the best pairs not exported yet (up to --budget) to "
        "<workspace>/annotation/label_studio/ (labeling_config.xml, tasks.json, images/); "
        "--push URL creates or updates a Label Studio project, connects local file "
        "storage for the images and adds only new tasks. Token from $LABEL_STUDIO_API_KEY.",
        add_arguments=_export_args,
        run=run_export,
    ),
    Command(
        name="ingest",
        help="ingest finished annotations and publish the benchmark",
        description="Validate annotations from a Label Studio JSON export (--annotations) "
        "or pulled from a server (--pull), apply errata, and publish <workspace>/benchmark/ "
        "(benchmark.parquet, Questions.csv + images/, benchmark.tsv, README.md). Rejected, "
        "invalid and disagreeing pairs are left out and listed with their reasons.",
        add_arguments=_ingest_args,
        run=run_ingest,
    ),
]
