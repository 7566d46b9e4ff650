"""``blindpairs embed`` and ``blindpairs encoders``."""

from __future__ import annotations

import argparse

from blindpairs.commands import Command, add_compute_options, record_params, stage_options
from blindpairs.config import add_options
from embeddings.params import EmbedParams

STAGE = "embed"


def _add_embed_arguments(parser: argparse.ArgumentParser) -> None:
    add_options(parser, EmbedParams)
    add_compute_options(parser)


def _print_summary(summaries: list) -> None:
    for s in summaries:
        line = (
            f"embed {s.encoder_id}: {s.embedded} embedded, {s.skipped} skipped as up to date, "
            f"{s.failed} failed"
        )
        if s.failed_before:
            line += f", {s.failed_before} failed earlier (--retry-failed to retry)"
        if s.embedded:
            rate = s.embedded / max(s.seconds - s.load_seconds, 1e-9)
            line += (
                f", {s.parts} part(s) in {s.seconds:.1f} s ({rate:.1f} tiles/s after "
                f"{s.load_seconds:.1f} s of model loading)"
            )
        print(line)
        if s.pruned:
            print(f"  pruned {s.pruned} embedding(s) of tiles no longer in tiles/")
        elif s.vanished:
            print(
                f"  {s.vanished} stored embedding(s) belong to tiles no longer in tiles/ "
                "(--prune to remove them)"
            )
        for tile_id, reason in list(s.reasons.items())[:10]:
            print(f"  failed {tile_id}: {reason}")
        if len(s.reasons) > 10:
            print(f"  ... and {len(s.reasons) - 10} more (see the folder's _failures.parquet)")


def run_embed(args: argparse.Namespace) -> int:
    """Embed the workspace's tiles that lack an embedding."""
    from embeddings.stage import run

    params, compute = stage_options(args, STAGE, EmbedParams, compute=True)
    summaries = run(args.workspace, params, compute)
    if not any(s.embedded or s.failed or s.pruned for s in summaries):
        ids = ", ".join(s.encoder_id for s in summaries)
        print(f"embed: nothing to do; every tile already has an embedding from {ids}")
    _print_summary(summaries)
    record_params(args, STAGE, params, compute)
    return 1 if any(s.failed for s in summaries) else 0


def run_encoders(args: argparse.Namespace) -> int:
    """Print the registered encoders."""
    from embeddings.registry import ENCODER_SETS, get_spec, list_encoders

    in_sets = {eid: name for name, pair in ENCODER_SETS.items() for eid in pair}
    rows = [("id", "family", "dim", "input", "weights", "set")]
    for eid in list_encoders():
        spec = get_spec(eid)
        weights = f"random (seed {spec.seed})" if spec.random_weights else spec.pretrained
        rows.append(
            (
                eid,
                spec.family,
                str(spec.dim),
                f"{spec.image_size}px",
                str(weights),
                in_sets.get(eid, ""),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


COMMANDS = [
    Command(
        name="embed",
        help="embed tiles with CLIP and DINOv2 (only tiles lacking an embedding)",
        description="Embed every tile that has no embedding yet for the chosen encoders "
        "(same id, weights and preprocessing) into "
        "<workspace>/embeddings/<encoder>/part-*.parquet. "
        "Runs on a local Dask cluster or --scheduler; resumes where a killed run stopped.",
        add_arguments=_add_embed_arguments,
        run=run_embed,
        runs_models=True,
    ),
    Command(
        name="encoders",
        help="list the registered image encoders",
        add_arguments=lambda p: None,
        run=run_encoders,
    ),
]
