"""``blindpairs mine``: find CLIP-blind pairs among the embedded tiles."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from blindpairs.commands import Command, add_compute_options, record_params, stage_options
from blindpairs.config import add_options

if TYPE_CHECKING:
    from pairs.mine import MineSummary

STAGE = "mine"
NOT_EMBEDDED = "no embedding from"  # the left-out reason of pairs.inputs.align
SHOWN_LEFT_OUT = 5
LOCAL_HELP = (
    "threads when no scheduler is given: mine then searches in this process, without a "
    "Dask cluster; FAISS's for an exact search, IVF lists probed and scored N at a time "
    "(default: all cores)"
)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    from pairs.params import MineParams

    add_options(parser, MineParams)
    add_compute_options(parser, local_help=LOCAL_HELP)


def _print_summary(s: MineSummary) -> None:
    if s.status == "up to date":
        print(f"mine: up to date ({s.selected} pairs); {s.message}")
        return
    for tile_id, reason in list(s.left_out.items())[:SHOWN_LEFT_OUT]:
        print(f"mine: left out {tile_id}: {reason}")
    if len(s.left_out) > SHOWN_LEFT_OUT:
        print(f"mine: ... {len(s.left_out) - SHOWN_LEFT_OUT} more in pairs/left_out.json")
    unembedded = sum(r.startswith(NOT_EMBEDDED) for r in s.left_out.values())
    if unembedded:
        print(
            f"mine: INCOMPLETE embeddings: {unembedded} tile(s) lack one (failed or not embedded "
            "yet; see 'blindpairs status'); run 'blindpairs embed' to mine them too"
        )
    if s.message:
        print(f"mine: {s.message}")
    recall = "n/a" if s.recall is None else f"{s.recall:.3f}"
    print(
        f"mine: {s.status}: {s.tiles} tiles ({s.searched} searched, {len(s.left_out)} left out), "
        f"search {s.plan.get('kind')} (recall {recall}); {s.candidates} candidate pairs, "
        f"{s.excluded_same_place} excluded as the same place; {s.selected} pairs selected "
        f"({s.new_pairs} new, {s.pinned} pinned by annotation)"
    )


def _run(args: argparse.Namespace) -> int:
    from pairs.mine import run
    from pairs.params import MineParams

    params, compute = stage_options(args, STAGE, MineParams, compute=True)
    summary = run(args.workspace, params, compute)
    record_params(args, STAGE, params, compute)
    _print_summary(summary)
    return 0


COMMANDS = [
    Command(
        name=STAGE,
        help="mine CLIP-blind pairs with FAISS",
        description="Find tile pairs that CLIP calls alike (cosine >= tau_clip) and DINOv2 "
        "tells apart (cosine < tau_dino), leaving out the same place; rank, cap and write "
        "pairs/pairs.parquet and pairs/yield.json. Incremental: only new or re-embedded tiles "
        "are searched; pairs exported for annotation keep id and rank, the rest is re-selected. "
        "Searches in this process, or on a Dask cluster with --scheduler.",
        add_arguments=_add_arguments,
        run=_run,
    )
]
