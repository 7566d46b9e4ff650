"""The stage table: which package runs each verb, and what it reads and writes.

The one place that says "mining/ is the tile stage": ``blindpairs --help``,
``blindpairs status``, the loggers, the command registry (``blindpairs.cli``) and
the README's architecture table all come from here. Paths are relative to the
workspace (``blindpairs.workspace.Workspace`` names each of them); ``outside`` is
what a stage takes from outside the workspace. Importing this module imports no
stage.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    """One pipeline verb: ``blindpairs <verb>`` runs ``<package>.cli``, whose command calls
    the stage's entry point ``<package>.<module>.run(workspace, params, compute)``."""

    verb: str
    package: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    outside: str = ""
    module: str = "stage"
    make_target: str = ""  # the Makefile target that runs it (default: the verb)
    arguments: str = ""  # positional arguments shown in the README's usage table

    @property
    def cli_module(self) -> str:
        return f"{self.package}.cli"

    @property
    def entry_module(self) -> str:
        """The module whose ``run(workspace, params, compute)`` is the stage."""
        return f"{self.package}.{self.module}"


@dataclass(frozen=True)
class Tool:
    """A command that is not a pipeline stage, and the module that provides it."""

    verb: str
    module: str


STAGES: tuple[Stage, ...] = (
    Stage(
        "tile",
        "mining",
        (),
        ("tiles/",),
        outside="scenes (GeoTIFF/COG files, folders, globs, GDAL URIs, .txt lists)",
        make_target="tiles",
        arguments="SCENES...",
    ),
    Stage("embed", "embeddings", ("tiles/",), ("embeddings/<encoder>/",), make_target="embeddings"),
    Stage(
        "mine",
        "pairs",
        ("tiles/", "embeddings/<encoder>/", "annotation/label_studio/tasks.json"),
        ("pairs/",),
        module="mine",
        make_target="pairs",
    ),
    Stage(
        "export",
        "annotation_export",
        ("tiles/", "pairs/"),
        ("annotation/label_studio/",),
        module="export",
    ),
    Stage(
        "ingest",
        "annotation_export",
        ("annotation/label_studio/",),
        ("benchmark/",),
        outside="Label Studio annotations",
        module="ingest",
    ),
    Stage(
        "evaluate",
        "evaluation",
        ("benchmark/",),
        ("evaluation/<run>/", "evaluation/leaderboard.csv"),
        outside="models",
    ),
    Stage("report", "report", ("tiles/", "pairs/", "benchmark/", "evaluation/"), ("reports/",)),
)

TOOLS: tuple[Tool, ...] = (
    Tool("example-scenes", "mining.cli"),
    Tool("encoders", "embeddings.cli"),
    Tool("status", "blindpairs.status"),
)

# Stage packages that borrow one module of another stage, and why (nothing else may).
BORROWS: dict[str, tuple[str, ...]] = {
    # the clip: baseline measures an encoder's own blindness with the embed stage's registry
    "evaluation": ("embeddings.registry",),
}


def packages() -> tuple[str, ...]:
    """Every stage package, in pipeline order, once each."""
    return tuple(dict.fromkeys(s.package for s in STAGES))


def command_modules() -> tuple[str, ...]:
    """Modules whose ``COMMANDS`` make up the CLI, in ``--help`` order."""
    return tuple(dict.fromkeys([s.cli_module for s in STAGES] + [t.module for t in TOOLS]))


def package_of(verb: str) -> str:
    """The package of stage ``verb``; KeyError for a verb that is not a stage."""
    return {s.verb: s.package for s in STAGES}[verb]


def _reads(stage: Stage) -> list[str]:
    return ([stage.outside] if stage.outside else []) + list(stage.reads)


def text_table(width: int = 79) -> str:
    """The table as plain text, one stage a line (``blindpairs --help``):
    ``verb  package/  reads -> writes``, wrapped to ``width``."""
    rows = [
        (s.verb, f"{s.package}/", f"{', '.join(_reads(s))} -> {', '.join(s.writes)}")
        for s in STAGES
    ]
    rows.insert(0, ("stage", "package", "reads -> writes"))
    w0, w1 = (max(len(r[i]) for r in rows) + 2 for i in range(2))
    return "\n".join(
        textwrap.fill(
            r[2],
            width,
            initial_indent=r[0].ljust(w0) + r[1].ljust(w1),
            subsequent_indent=" " * (w0 + w1 + 2),
            break_on_hyphens=False,
        )
        for r in rows
    )


def _cells(outside: str, paths: tuple[str, ...]) -> str:
    return ", ".join(([outside] if outside else []) + [f"`{p}`" for p in paths])


def markdown_table() -> str:
    """The table in Markdown (the README's architecture section holds exactly this)."""
    lines = ["| stage | package | reads | writes |", "|---|---|---|---|"]
    lines += [
        f"| {s.verb} | `{s.package}/` | {_cells(s.outside, s.reads)} | {_cells('', s.writes)} |"
        for s in STAGES
    ]
    return "\n".join(lines)


def usage_table() -> str:
    """The stages as commands and make targets, in Markdown (the README's "The stages"
    section holds exactly this)."""
    lines = ["| stage | command | make target | reads | writes |", "|---|---|---|---|---|"]
    for s in STAGES:
        command = " ".join(filter(None, ("blindpairs", s.verb, s.arguments)))
        target = s.make_target or s.verb
        lines.append(
            f"| {s.verb} | `{command}` | `{target}` | {_cells(s.outside, s.reads)} "
            f"| {_cells('', s.writes)} |"
        )
    return "\n".join(lines)
