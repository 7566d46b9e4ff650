"""``blindpairs report``: one static HTML page of everything a workspace holds."""

from __future__ import annotations

import argparse

from blindpairs.commands import Command, record_params, stage_options
from blindpairs.config import add_options
from blindpairs.workspace import Workspace
from report.params import ReportParams

STAGE = "report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_options(parser, ReportParams)


def run(args: argparse.Namespace) -> int:
    from report import stage

    params, compute = stage_options(args, STAGE, ReportParams)
    ws = Workspace(args.workspace)
    summary = stage.run(ws, params, compute)
    if summary.status == "nothing to report":
        print(f"report: nothing to report yet: no stage has written anything in {ws.root}")
        return 0
    record_params(args, STAGE, params)
    for what, why in summary.failed:
        print(f"report: left out {what}: {why}")
    if summary.status == "up to date":
        print(f"report: up to date, nothing written: {summary.path}")
    else:
        print(
            f"report: 1 done ({summary.assets} image(s)), 0 skipped as up to date, "
            f"{len(summary.failed)} failed item(s) left out: {summary.path}"
        )
    return 0


COMMANDS = [
    Command(
        name=STAGE,
        help="render <ws>/reports/index.html: pairs, similarities, yield, map, scores, answers",
        add_arguments=add_arguments,
        run=run,
        description=(
            "Write a static HTML page (no server, no JavaScript) of everything the workspace "
            "holds: the mined pairs best first, CLIP vs DINOv2 similarity with the thresholds, "
            "the yield grid, a footprint map, and once models are evaluated the leaderboard, "
            "per-category bars and every model's answers. Skips when nothing changed."
        ),
    ),
]
