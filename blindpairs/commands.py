"""What a stage's CLI module provides, and the options every stage shares."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from blindpairs import config, lock, stages
from blindpairs.compute import Compute
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
    # runs models on the CPU: the process gets blindpairs.malloc's settings at start
    runs_models: bool = False


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
    """The :class:`~blindpairs.compute.Compute` options (``scheduler``, ``workers``) of
    stages that run on Dask; ``local_help`` says what ``--workers`` means when no scheduler
    is given."""
    group = parser.add_argument_group("compute (config-file keys in brackets)")
    helps = {"scheduler": None, "workers": local_help}
    for f in config.option_fields(Compute):
        text = f"{helps[f.name] or f.metadata['help']} [{f.name}]".replace("%", "%%")
        group.add_argument(
            f"--{f.name}",
            dest=f.name,
            default=argparse.SUPPRESS,
            metavar=f.metadata["metavar"],
            help=text,
        )


def stage_options(
    args: argparse.Namespace,
    stage: str,
    params_cls: type[T],
    *,
    compute: bool = False,
    check: Callable[[T], None] | None = None,
) -> tuple[T, Compute]:
    """Resolve a stage's params and its :class:`Compute` from defaults, ``--config`` and
    flags, then take the workspace lock for the rest of the command
    (:mod:`blindpairs.lock`; ``cli.main`` gives it back): options are checked before
    anything in the workspace is touched.

    The stage's config section holds both (``scheduler``/``workers`` only where
    ``compute`` is true); a shared option group such as the encoder choice is taken whole
    from one place (``config.stage_section``).
    ``check`` raises ConfigError for params that cannot work, before the lock is taken.
    """
    sections = config.load_config(args.config)
    found = config.stage_section(sections, stage, params_cls, cli=args, path=args.config)
    source = f"{args.config} [{stage}]" if args.config else f"config [{stage}]"
    compute_keys = {f.name for f in config.option_fields(Compute)} if compute else set()
    machine = {k: v for k, v in found.values.items() if str(k).replace("-", "_") in compute_keys}
    rest = {k: v for k, v in found.values.items() if k not in machine}
    params = config.resolve(
        params_cls,
        rest,
        args,
        section_source=source,
        key_sources=found.key_sources,
        also_known=compute_keys,
        fixed=found.fixed,
    )
    where = config.resolve(Compute, machine, args if compute else None, section_source=source)
    if check is not None:
        check(params)
    lock.acquire(args.workspace)
    return params, replace(where, quiet=bool(getattr(args, "quiet", False)))


def record_params(
    args: argparse.Namespace, stage: str, params: Any, compute: Compute | None = None
) -> None:
    """Write the resolved params of ``stage`` (and its compute options, for stages that run
    on Dask) into the workspace's config.yaml; a one-off flag such as ``--force`` is
    recorded as the config file (or the default) has it (``config.standing``)."""
    section = config.load_config(args.config).get(stage)
    extra = () if compute is None else (compute,)
    recorded = config.standing(params, section, args)
    config.record_resolved(Workspace(args.workspace).config, stage, recorded, *extra)


def setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # Our own summaries are INFO-level by default.
    logging.getLogger("blindpairs").setLevel(min(level, logging.INFO))
    # Dask logs its cluster start-up at INFO; keep it for -vv.
    logging.getLogger("distributed").setLevel(logging.WARNING if verbose < 2 else logging.DEBUG)
    for name in stages.packages():  # each stage logs under its package's name
        logging.getLogger(name).setLevel(min(level, logging.INFO))
