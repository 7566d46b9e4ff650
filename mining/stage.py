"""The tile stage: decide what changed, plan scenes, cut tiles on Dask, write parts."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from blindpairs import atomic, lock
from blindpairs.compute import Compute, ordered_map
from blindpairs.config import to_dict
from blindpairs.errors import ConfigError
from blindpairs.progress import progress
from blindpairs.schemas import GEO_KEY, META_KEY, TILES_SCHEMA, read_metadata, with_metadata
from blindpairs.workspace import Workspace
from mining.footprint import geo_metadata
from mining.params import TILER_VERSION, TileParams
from mining.pending_hash import identified, submit_hash
from mining.plan import SceneFailure, ScenePlan, Unchanged, plan_scene
from mining.retile import refusal, tiling_change
from mining.scenes import SceneRef, assign_scene_ids, expand_inputs, file_stamp
from mining.tiler import DROP_REASONS, ChunkResult, chunk_tasks, tile_chunk

log = logging.getLogger(__name__)

FAILURES_SCHEMA = pa.schema(
    [
        ("scene_id", pa.string()),
        ("scene_uri", pa.string()),
        ("tile", pa.string()),
        ("reason", pa.string()),
    ]
)


# How a tiles part is written. Every column but the image is zstd with dictionary
# encoding and statistics. The image column (PNG bytes, each value unique) has neither
# dictionary nor min/max statistics, which cost the client's CPU per tile (10-28% of the
# part's write time, measured) and serve no reader; it is zstd for PNG level 0 (stored
# deflate: zstd makes the part 20-35% smaller on real imagery) and uncompressed for levels
# 1-9 (already deflated: zstd saved 0% in the measurements, at 20-40% more write time).
# Each column chunk records its codec; readers see the same values (README, Performance).
_NOT_IMAGE = [
    "tile_id", "scene_id", "scene_uri", "row_off", "col_off", "width", "height", "proj:code",
    "proj:transform.list.element", "bands.list.element", "gsd_m", "valid_fraction",
    "tiling", "geometry",
]  # fmt: skip


def part_write_options(png_compression: int) -> dict[str, Any]:
    """``pq.ParquetWriter`` options of a tiles part of PNGs at zlib level ``png_compression``."""
    image_codec = "zstd" if png_compression == 0 else "none"
    return {
        "compression": {**dict.fromkeys(_NOT_IMAGE, "zstd"), "image": image_codec},
        "use_dictionary": _NOT_IMAGE,
        "write_statistics": _NOT_IMAGE,
    }


@dataclass
class TileSummary:
    """What a run of the tile stage did."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (uri, reason)
    tiles_written: int = 0
    dropped: Counter = field(default_factory=Counter)
    lost_pixels: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not (self.new or self.changed or self.failed)

    def lines(self) -> list[str]:
        out = [
            f"scenes: {len(self.new)} new, {len(self.changed)} changed, "
            f"{len(self.unchanged)} unchanged, {len(self.failed)} failed",
        ]
        if self.up_to_date:
            out.append("tiles: up to date, nothing to do")
        else:
            drops = ", ".join(f"{r} {self.dropped[r]}" for r in DROP_REASONS if self.dropped[r])
            out.append(f"tiles: {self.tiles_written} written, dropped: {drops or 'none'}")
        if self.lost_pixels:
            out.append(f"edge pixels not tiled (--edge drop): {self.lost_pixels}")
        out.extend(f"note: {n}" for n in self.notes)
        out.extend(f"FAILED {uri}: {reason}" for uri, reason in self.failed)
        return out


def _existing(ws: Workspace) -> dict[str, dict]:
    out = {}
    for part in ws.tile_parts():
        try:
            meta = read_metadata(part)
        except Exception as exc:  # noqa: BLE001 - an unreadable part is re-tiled
            log.warning("%s: unreadable part, will re-tile its scene: %s", part, exc)
            continue
        if meta.get("scene_id"):
            out[meta["scene_id"]] = meta
    return out


def _is_current(ref: SceneRef, meta: dict | None, tiling: str) -> bool:
    if not meta or meta.get("tiling") != tiling or meta.get("scene_uri") != ref.uri:
        return False
    if not ref.is_local:
        return True
    stamp = file_stamp(ref.uri)
    return stamp is not None and [stamp.size, stamp.mtime_ns] == meta.get("stamp")


@lock.locked("tile")
def run(workspace: Workspace | str | Path, params: TileParams, compute: Compute) -> TileSummary:
    """Tile every scene named by ``params.scenes`` into ``<workspace>/tiles``; only new work
    is done (all of it with ``params.force``).

    When the tiling changed (options or tiler version), every scene of the workspace is
    planned first; if one cannot be re-tiled, :class:`ConfigError` is raised before
    anything is written or deleted, unless ``params.drop_failed`` allows removing its old
    part."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    check(params)
    uris = expand_inputs(list(params.scenes))
    ws.tiles.mkdir(parents=True, exist_ok=True)
    atomic.clean_stale_temporaries(ws.tiles)
    existing = _existing(ws)
    refs = assign_scene_ids(uris, {sid: m["scene_uri"] for sid, m in existing.items()})
    summary = TileSummary()
    refs, stale = _with_stale_scenes(refs, existing, params, summary)
    todo = _todo(refs, existing, params, summary)
    if not todo:
        _write_failures(ws, [], set())
        return summary
    tiling = params.tiling_only()  # the run's own options stay out of parts and tasks
    with compute.client() as client:
        plans, hashes, failures = _plan_all(client, todo, tiling, existing, summary)
        blocked = [
            (f["scene_id"], f["scene_uri"], f["reason"]) for f in failures if f["scene_id"] in stale
        ]
        if blocked and not params.drop_failed:
            raise ConfigError(refusal(blocked, set(stale.values())))
        _cut(ws, client, plans, hashes, tiling, summary, failures, compute.quiet)
    _drop_stale_parts(ws, stale.keys() - {p.ref.scene_id for p in plans}, summary)
    _write_failures(ws, failures, {ref.uri for ref, _ in todo})
    return summary


def check(params: TileParams) -> None:
    """ConfigError when no scene is named (the CLI calls it before the workspace is
    touched; :func:`run` calls it too)."""
    if not params.scenes:
        raise ConfigError(
            "no scenes given: pass paths/globs/URIs (the positional SCENES), or a 'scenes:' "
            "list in the tile section"
        )


def _with_stale_scenes(
    refs: list[SceneRef], existing: dict[str, dict], params: TileParams, summary: TileSummary
) -> tuple[list[SceneRef], dict[str, str]]:
    """``refs`` plus every tiled scene whose tiling changed (a workspace holds one tiling:
    those not named here are re-tiled from their recorded URI), and scene id -> what
    changed for each of those."""
    tiling = params.tiling_hash()
    stale = {
        sid: tiling_change(m, params) for sid, m in existing.items() if m.get("tiling") != tiling
    }
    if not stale:
        return refs, stale
    named = {ref.scene_id for ref in refs}
    others = [SceneRef(existing[sid]["scene_uri"], sid) for sid in sorted(stale.keys() - named)]
    changes = " | ".join(sorted(set(stale.values())))
    summary.notes.append(
        f"tiling changed for {len(stale)} tiled scene(s) ({changes}): "
        f"re-tiling every scene of the workspace ({len(others)} not named here, from their "
        "recorded paths); tile ids change, so embed, mine and later stages redo them"
    )
    return [*refs, *others], stale


def _todo(
    refs: list[SceneRef], existing: dict[str, dict], params: TileParams, summary: TileSummary
) -> list[tuple[SceneRef, str | None]]:
    """The scenes to plan, each with its recorded content hash when only the file may have
    changed (same tiling); up-to-date scenes go to ``summary.unchanged``."""
    tiling = params.tiling_hash()
    todo: list[tuple[SceneRef, str | None]] = []
    for ref in refs:
        meta = existing.get(ref.scene_id)
        if not params.force and _is_current(ref, meta, tiling):
            summary.unchanged.append(ref.scene_id)
        else:
            same = meta is not None and meta.get("tiling") == tiling and not params.force
            todo.append((ref, meta.get("content") if same else None))
    return todo


def _plan_all(
    client: Any,
    todo: list[tuple[SceneRef, str | None]],
    params: TileParams,
    existing: dict[str, dict],
    summary: TileSummary,
) -> tuple[list[ScenePlan], dict[str, Any], list[dict]]:
    """Plan each scene on the cluster: the plans to cut, the futures of the content hashes
    they lack by scene id (each file is hashed in a task of its own, beside the cutting,
    unless its recorded hash may show it unchanged), and the scenes that failed."""
    futures = [
        client.submit(plan_scene, ref, params, known, defer_hash=True, pure=False)
        for ref, known in todo
    ]
    hashes = {ref.scene_id: submit_hash(client, ref) for ref, known in todo if known is None}
    plans: list[ScenePlan] = []
    failures: list[dict] = []
    for (ref, _), outcome in zip(todo, client.gather(futures), strict=True):
        if not isinstance(outcome, ScenePlan) and ref.scene_id in hashes:
            hashes.pop(ref.scene_id).cancel()
        if isinstance(outcome, SceneFailure):
            summary.failed.append((ref.uri, outcome.reason))
            failures.append(
                {
                    "scene_id": ref.scene_id,
                    "scene_uri": ref.uri,
                    "tile": None,
                    "reason": outcome.reason,
                }
            )
        elif isinstance(outcome, Unchanged):
            summary.unchanged.append(ref.scene_id)
            summary.notes.append(f"{ref.uri}: file touched but content unchanged")
        else:
            plans.append(outcome)
            (summary.changed if ref.scene_id in existing else summary.new).append(ref.scene_id)
            summary.notes.extend(f"{ref.scene_id}: {n}" for n in outcome.notes)
    return plans, hashes, failures


def _drop_stale_parts(ws: Workspace, scene_ids: set[str], summary: TileSummary) -> None:
    """Remove the old parts of scenes that could not be re-tiled (``--drop-failed``)."""
    for sid in sorted(scene_ids):
        ws.tile_part(sid).unlink(missing_ok=True)
        summary.notes.append(
            f"{sid}: its tiles made with the old tiling were removed (--drop-failed; it failed "
            "with the new one, see FAILED); fix it and re-run to tile it again"
        )


def _cut(ws, client, plans, hashes, params, summary, failures, quiet) -> None:  # noqa: ANN001
    """Cut every plan's tiles and write each scene's part (``hashes``: futures of the
    content hashes the plans lack, by scene id)."""
    thresholds = {
        "min_valid": params.min_valid,
        "min_std": params.min_std,
        "max_saturated": params.max_saturated,
        "png_compression": params.png_compression,
    }
    threads = sum(client.nthreads().values())
    chunk = params.tiles_per_task()
    tails = [0] * len(plans)
    if plans:
        tails[-1] = chunk * threads  # the run ends with small tasks
    per_scene = [chunk_tasks(p, chunk, t, **thresholds) for p, t in zip(plans, tails, strict=True)]
    tasks = [t for ts in per_scene for t in ts]
    window = 2 * threads + 2
    results = ordered_map(client, tile_chunk, tasks, window=window)
    bar = progress(sum(len(p.windows) for p in plans), "tiling", unit="tile", quiet=quiet)
    with bar:
        for plan, scene_tasks in zip(plans, per_scene, strict=True):
            sid = plan.ref.scene_id
            try:
                plan, chunks = identified(plan, results, len(scene_tasks), hashes.get(sid))
            except Exception as exc:  # noqa: BLE001 - the file failed between plan and hash
                _hash_failed(plan, f"content hash: {exc}", summary, failures)
                bar.update(len(plan.windows))
                continue
            _write_part(ws, plan, params, chunks, bar, summary, failures)


def _hash_failed(plan: ScenePlan, reason: str, summary: TileSummary, failures: list[dict]) -> None:
    """Record a scene whose plan succeeded but whose content hash failed: nothing is
    written, and an old part of the scene stays (the next run tries it again)."""
    sid = plan.ref.scene_id
    for done in (summary.new, summary.changed):
        if sid in done:
            done.remove(sid)
    summary.failed.append((plan.ref.uri, reason))
    failures.append({"scene_id": sid, "scene_uri": plan.ref.uri, "tile": None, "reason": reason})


def _write_part(ws, plan: ScenePlan, params: TileParams, chunks, bar, summary, failures) -> None:  # noqa: ANN001
    meta = {
        "scene_id": plan.ref.scene_id,
        "scene_uri": plan.ref.uri,
        "content": plan.content,
        "stamp": _stamp_list(plan.ref),
        "tiling": plan.tiling,
        "tiler_version": TILER_VERSION,
        "params": to_dict(params),
        "crs": plan.proj_code,
        "bands": list(plan.source.rgb),
        "band_choice": plan.band_how,
        "mask": plan.source.mask,
        "stretch": {"how": plan.stretch.how, "lo": plan.stretch.lo, "gain": plan.stretch.gain},
        "notes": list(plan.notes),
        "gsd_xy_m": [plan.gsd_m, plan.gsd_y_m],  # metres per tile pixel, x and y
    }
    schema = with_metadata(TILES_SCHEMA, meta, geo=geo_metadata())
    dropped: Counter = Counter()
    written = 0
    lo = np.array([np.inf, np.inf])
    hi = np.array([-np.inf, -np.inf])
    target = ws.tile_part(plan.ref.scene_id)
    with atomic.atomic_path(target) as tmp, pa.OSFile(str(tmp), "wb") as sink:
        writer = pq.ParquetWriter(sink, schema, **part_write_options(params.png_compression))
        written_back = 0
        try:
            res: ChunkResult
            for res in chunks:
                if res.table.num_rows:
                    writer.write_table(res.table)
                    written_back = atomic.start_writeback(sink, written_back)
                    bounds = _bounds(res.table.column("geometry"))
                    lo = np.minimum(lo, bounds[:2])
                    hi = np.maximum(hi, bounds[2:])
                written += res.table.num_rows
                dropped.update(res.dropped)
                for where, reason in res.errors:
                    failures.append(
                        {
                            "scene_id": plan.ref.scene_id,
                            "scene_uri": plan.ref.uri,
                            "tile": where,
                            "reason": reason,
                        }
                    )
                bar.update(res.table.num_rows + sum(res.dropped.values()))
            meta.update(tiles=written, dropped=dict(dropped), lost_edge_pixels=plan.lost_pixels)
            bbox = [*lo.tolist(), *hi.tolist()] if written else None
            writer.add_key_value_metadata(
                {
                    META_KEY: json.dumps(meta, sort_keys=True, default=str).encode(),
                    GEO_KEY: json.dumps(geo_metadata(bbox)).encode(),
                }
            )
        finally:
            writer.close()
    summary.tiles_written += written
    summary.dropped.update(dropped)
    summary.lost_pixels += plan.lost_pixels


def _bounds(geometry: pa.ChunkedArray) -> np.ndarray:
    """``[xmin, ymin, xmax, ymax]`` of WKB footprints (a split one spans -180..180)."""
    import shapely

    b = shapely.bounds(shapely.from_wkb(geometry.to_pylist()))  # to_numpy imports pandas
    return np.r_[b[:, :2].min(axis=0), b[:, 2:].max(axis=0)]


def _stamp_list(ref: SceneRef) -> list[int] | None:
    stamp = file_stamp(ref.uri) if ref.is_local else None
    return [stamp.size, stamp.mtime_ns] if stamp else None


def _write_failures(ws: Workspace, new: list[dict], attempted: set[str]) -> None:
    """Keep failures of scenes not attempted this run, replace those of attempted ones."""
    path = ws.tile_failures
    rows: list[dict] = []
    if path.exists():
        try:
            rows = [r for r in pq.read_table(path).to_pylist() if r["scene_uri"] not in attempted]
        except Exception as exc:  # noqa: BLE001
            log.warning("%s: unreadable failures table, rewriting it: %s", path, exc)
    rows.extend(new)
    if not rows and not path.exists():
        return
    with atomic.atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pylist(rows, schema=FAILURES_SCHEMA), tmp)
