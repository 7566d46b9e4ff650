"""The ``blindpairs`` command: a thin shell over each stage's typed functions."""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap

from blindpairs import __version__, lock, malloc, stages
from blindpairs.commands import Command, add_common_options, setup_logging
from blindpairs.errors import BlindpairsError

# Each module exposes COMMANDS: list[Command]. Order is the order of --help.
COMMAND_MODULES = stages.command_modules()

DESCRIPTION = (
    "Build, grow and use a remote sensing benchmark of CLIP-blind pairs: "
    "tile scenes, embed tiles with CLIP and DINOv2, mine pairs CLIP confuses but "
    "DINOv2 tells apart, annotate them, and score multimodal LLMs on them."
)
CHAIN_NOTE = (
    "Commands separated by a lone + run one after another in this process "
    "(stopping at the first that fails): blindpairs tile S -w W + embed -w W + mine -w W"
)


def epilog() -> str:
    """The stage -> package table (from :mod:`blindpairs.stages`) and the chain note."""
    table = textwrap.indent(stages.text_table(77), "  ")
    return f"stages (workspace paths):\n{table}\n\n{textwrap.fill(CHAIN_NOTE, 79)}"


def commands() -> list[Command]:
    """Every registered sub-command."""
    out: list[Command] = []
    for module in COMMAND_MODULES:
        out.extend(importlib.import_module(module).COMMANDS)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blindpairs",
        description=textwrap.fill(DESCRIPTION, 79),
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"blindpairs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    stages: dict[str, argparse.ArgumentParser] = {}
    for cmd in commands():
        p = sub.add_parser(
            cmd.name,
            help=cmd.help,
            description=cmd.description or cmd.help,
        )
        cmd.add_arguments(p)
        add_common_options(p)
        p.set_defaults(_run=cmd.run)
        stages[cmd.name] = p
    parser.set_defaults(_stage_parsers=stages)
    return parser


# Separates the commands of a chain: `blindpairs tile S -w W + embed -w W + mine -w W`.
CHAIN = "+"


def split_chain(argv: list[str]) -> list[list[str]]:
    """The commands of ``argv``, split on :data:`CHAIN` tokens (empty segments dropped)."""
    segments: list[list[str]] = [[]]
    for token in argv:
        if token == CHAIN:
            segments.append([])
        else:
            segments[-1].append(token)
    return [s for s in segments if s]


def main(argv: list[str] | None = None) -> int:
    """Run one command, or a chain of commands in this one process (``+`` between them).

    A chain stops at the first command that exits non-zero, like make; running
    the stages in one process pays the interpreter start and imports once.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    segments = split_chain(argv) or [argv]
    parser = build_parser()
    if runs_models(segments):
        malloc.tune()  # before any thread allocates: see blindpairs.malloc
    for segment in segments:
        rc = _run_one(parser, segment)
        if rc:
            return rc
    return 0


def runs_models(segments: list[list[str]]) -> bool:
    """Whether a command of the chain runs models (its first word names the command).

    Only those get :mod:`blindpairs.malloc`'s settings: the tile stage ran about 10%
    slower with them and kept ~150 MB more memory (``bench/tile.py``).
    """
    names = {segment[0] for segment in segments if segment}
    return any(cmd.runs_models for cmd in commands() if cmd.name in names)


def _run_one(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # a misspelled option: the stage's own usage, not the top-level one
        args._stage_parsers[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    setup_logging(args.verbose)
    try:
        return int(args._run(args) or 0)
    except BlindpairsError as exc:
        print(f"blindpairs {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"blindpairs {args.command}: interrupted; re-run to resume", file=sys.stderr)
        return 130
    finally:
        lock.release_all()


if __name__ == "__main__":
    sys.exit(main())
