"""What a stage's CLI module provides, and the options every stage shares."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from blindpairs import config, lock, stages
from blindpairs.workspace import Workspace

T = TypeVar("T")

WORKSPACE_ENV = "BLINDPAIRS_WORKSPACE"


@dataclass(frozen=True)
class Command:
    """One ``blindpairs <name>`` sub-command."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options every sub-command has."""
    group = parser.add_argument_group("common options")
    group.add_argument(
        "-w",
        "--workspace",
        default=os.environ.get(WORKSPACE_ENV, "workspace"),
        help=f"workspace folder (default: ${WORKSPACE_ENV} or ./workspace)",
    )
    group.add_argument(
        "-c", "--config", default=None, help="YAML file with a section of options per stage"
    )
    group.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    group.add_argument("-v", "--verbose", action="count", default=0, help="more log output")


def add_compute_options(
    parser: argparse.ArgumentParser,
    local_help: str = "threads of the local Dask cluster (default: CPU count)",
) -> None:
    """Options of stages that run on Dask; ``local_help`` says what ``--workers`` means
    when no scheduler is given."""
    group = parser.add_argument_group("compute")
    group.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 "
        "(default: $DASK_SCHEDULER_ADDRESS, else this machine)",
    )
    group.add_argument("--workers", type=int, default=None, metavar="N", help=local_help)


def stage_params(
    args: argparse.Namespace,
    stage: str,
    params_cls: type[T],
    section: dict[str, Any] | None = None,
) -> T:
    """Resolve a stage's params from defaults, ``--config`` and flags, then take the
    workspace lock for the rest of the command (:mod:`blindpairs.lock`; ``cli.main``
    gives it back): options are checked before anything in the workspace is touched.

    ``section`` replaces the config file's section for ``stage`` (for commands that
    take non-parameter keys, such as the tile stage's ``scenes``, out of it first).
    """
    if section is None:
        section = config.load_config(args.config).get(stage)
    source = f"{args.config} [{stage}]" if args.config else "config"
    params = config.resolve(params_cls, section, args, section_source=source)
    lock.acquire(args.workspace)
    return params


def record_params(args: argparse.Namespace, stage: str, params: Any) -> None:
    """Write the resolved params of ``stage`` into the workspace's config.yaml."""
    config.record_resolved(Workspace(args.workspace).config, stage, params)


def setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # Our own summaries are INFO-level by default.
    logging.getLogger("blindpairs").setLevel(min(level, logging.INFO))
    # Dask logs its cluster start-up at INFO; keep it for -vv.
    logging.getLogger("distributed").setLevel(logging.WARNING if verbose < 2 else logging.DEBUG)
    for name in stages.packages():  # each stage logs under its package's name
        logging.getLogger(name).setLevel(min(level, logging.INFO))
