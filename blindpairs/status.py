"""``blindpairs status``: what each stage has produced in a workspace, in one table.

It reads only the stages' public outputs (the files named in DESIGN.md): their
file metadata, and their tile id columns to tell outputs that no longer match the
tiles (stale), never images or vectors, so it stays quick on any workspace size.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from blindpairs import stages
from blindpairs.commands import Command
from blindpairs.schemas import read_exported_pairs, read_leaderboard, read_metadata
from blindpairs.workspace import REPLACED, Workspace


@dataclass(frozen=True)
class StageState:
    stage: str
    ready: bool
    detail: str
    stale: str = ""  # why the output no longer matches its inputs ("" when it does)


def _rows(paths: list[Path]) -> int:
    return sum(pq.read_metadata(p).num_rows for p in paths)


def _tile(ws: Workspace) -> StageState:
    parts = ws.tile_parts()
    failed = _rows([ws.tile_failures]) if ws.tile_failures.exists() else 0
    detail = f"{_rows(parts)} tiles from {len(parts)} scenes" + (
        f", {failed} failures" if failed else ""
    )
    return StageState("tile", bool(parts), detail)


def _embed(ws: Workspace) -> StageState:
    dirs = ws.encoder_dirs()
    tiles = _ids(ws.tile_parts(), "tile_id") if dirs else set()
    items, gaps = [], []
    for d in dirs:
        parts = sorted(d.glob("part-*.parquet"))
        if not parts and not (d / REPLACED).is_dir():
            continue
        meta = read_metadata(parts[0]) if parts else {}
        flag = " (random weights)" if meta.get("random_weights") else ""
        embedded = _ids(parts, "tile_id")
        orphans = len(embedded - tiles)
        extra = (
            f", and {orphans} of tiles no longer in tiles/ (embed --prune removes them)"
            if orphans
            else ""
        )
        gaps.append(_embed_gap(d, tiles, embedded))
        name = meta.get("encoder_id", d.name)
        items.append(f"{name}: {len(embedded & tiles)}{flag}{extra}{gaps[-1]}")
    ready = bool(items) and not any(gaps)
    return StageState("embed", ready, "; ".join(items) or "no embeddings")


def _embed_gap(folder: Path, tiles: set[str], embedded: set[str]) -> str:
    """Why an encoder folder is incomplete ('' when it is not): an interrupted
    ``--replace``, or tiles of ``tiles/`` neither embedded nor failed."""
    if (folder / REPLACED).is_dir():
        return " INCOMPLETE (an interrupted embed --replace; run embed)"
    failures = Workspace.embed_failures(folder)
    failed = _ids([failures], "tile_id") if failures.exists() else set()
    missing = len(tiles - embedded - failed)
    if not missing:
        return ""
    return f" INCOMPLETE ({missing} of {len(tiles)} tiles not embedded; run embed)"


def _mine(ws: Workspace) -> StageState:
    if not ws.pairs.exists():
        return StageState("mine", False, "no pairs")
    flag = " (random weights)" if read_metadata(ws.pairs).get("random_weights") else ""
    return StageState("mine", True, f"{pq.read_metadata(ws.pairs).num_rows} pairs{flag}")


def _export(ws: Workspace) -> StageState:
    tasks = ws.tasks
    if not tasks.exists():
        return StageState("export", False, "no annotation tasks")
    return StageState("export", True, f"{len(read_exported_pairs(tasks))} tasks in {tasks}")


def _ingest(ws: Workspace) -> StageState:
    path = ws.benchmark_file
    if not path.exists():
        return StageState("ingest", False, "no published benchmark")
    rows = pq.read_metadata(path).num_rows
    return StageState("ingest", True, f"{rows // 2} pairs, {rows} questions in {ws.benchmark}")


def _evaluate(ws: Workspace) -> StageState:
    board = ws.leaderboard
    if not board.exists():
        return StageState("evaluate", False, "no model evaluated")
    runs = read_leaderboard(board)
    return StageState("evaluate", True, f"{len(runs)} run(s) in {board}")


def _report(ws: Workspace) -> StageState:
    page = ws.report_page
    return StageState("report", page.exists(), str(page) if page.exists() else "no report")


CHECKS: tuple[Callable[[Workspace], StageState], ...] = (
    _tile,
    _embed,
    _mine,
    _export,
    _ingest,
    _evaluate,
    _report,
)


def _ids(paths: list[Path], *columns: str) -> set[str]:
    out: set[str] = set()
    for path in paths:
        table = pq.read_table(path, columns=list(columns))
        for name in columns:
            out.update(table.column(name).to_pylist())
    return out


def _mtime(paths: list[Path]) -> int:
    return max((p.stat().st_mtime_ns for p in paths), default=0)


def stale_reasons(ws: Workspace) -> dict[str, str]:
    """Why embed, mine and export outputs no longer match the tiles (e.g. after re-tiling
    with other options), by stage; a stage downstream of a stale one is stale too."""
    parts = ws.tile_parts()
    tiles = _ids(parts, "tile_id")
    dirs = sorted(d for d in ws.embeddings.glob("*") if d.is_dir())
    embedded = [sorted(d.glob("part-*.parquet")) for d in dirs]
    out: dict[str, str] = {}
    for folder, eparts in zip(dirs, embedded, strict=True):
        missing = len(tiles - _ids(eparts, "tile_id")) if eparts else 0
        if missing:
            out["embed"] = f"{missing} of {len(tiles)} tiles have no {folder.name} embedding"
    marker = ws.mine_state
    if ws.pairs.exists():
        gone = len(_ids([ws.pairs], "tile_a", "tile_b") - tiles)
        if gone:
            out["mine"] = f"pairs refer to {gone} tiles no longer in tiles/"
        elif _mtime([marker if marker.exists() else ws.pairs]) < _mtime(
            parts + [p for e in embedded for p in e]
        ):
            out["mine"] = "tiles or embeddings changed after the last mine run"
    if ws.tasks.exists():
        exported = read_exported_pairs(ws.tasks).values()
        gone = len({t for pair in exported for t in pair} - tiles - {""})
        if gone:
            out["export"] = f"tasks show {gone} tiles no longer in tiles/"
    for up, down in (("embed", "mine"), ("mine", "export")):
        if up in out and down not in out:
            out[down] = f"{up} is stale"
    return out


def workspace_status(ws: Workspace) -> list[StageState]:
    """The state of every stage's output in ``ws``, stale stages marked."""
    states = [check(ws) for check in CHECKS]
    stale = stale_reasons(ws) if ws.tile_parts() else {}
    return [
        StageState(s.stage, s.ready, s.detail, stale[s.stage])
        if s.ready and s.stage in stale
        else s
        for s in states
    ]


def _run(args: argparse.Namespace) -> int:
    from blindpairs.errors import WorkspaceError

    ws = Workspace(args.workspace)
    if not ws.root.is_dir():
        raise WorkspaceError(f"{ws.root}: no such workspace (run `blindpairs tile` to create it)")
    print(f"workspace {ws.root}")
    print(f"  {'stage':9s} {'state':5s} {'package':19s} output")
    for state in workspace_status(ws):
        mark = "stale" if state.stale else "ok" if state.ready else "--"
        why = f" (STALE: {state.stale}; run {state.stage})" if state.stale else ""
        package = f"{stages.package_of(state.stage)}/"
        print(f"  {state.stage:9s} {mark:5s} {package:19s} {state.detail}{why}")
    return 0


COMMANDS = [
    Command(
        "status",
        "show what each stage has produced in the workspace",
        lambda p: None,
        _run,
    )
]
