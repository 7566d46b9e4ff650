"""Re-tiling a workspace whose tiling changed: what changed, and the refusal when a
scene cannot be re-tiled (its old tiles are never removed unless asked)."""

from __future__ import annotations

from blindpairs.config import to_dict
from blindpairs.terminal import terminal_safe
from mining.params import NOT_TILING, TILER_VERSION, TileParams


def tiling_change(meta: dict, params: TileParams) -> str:
    """Why a part's tiling differs from ``params``': the tiler version and/or the options
    (only those recorded in both; a newer tiler may have options the part lacks)."""
    old_params = meta.get("params") or {}
    new_params = to_dict(params)
    changed = [
        f"{key} {old_params[key]} -> {value}"
        for key, value in new_params.items()
        if key not in NOT_TILING and key in old_params and old_params[key] != value
    ]
    why = []
    version = meta.get("tiler_version")
    if version != TILER_VERSION:
        why.append(f"tiler version {version if version is not None else '?'} -> {TILER_VERSION}")
    if changed or not why:
        why.append("options differ" + (f" ({', '.join(changed)})" if changed else ""))
    return "; ".join(why)


def refusal(blocked: list[tuple[str, str, str]], changes: set[str]) -> str:
    """The message of a refused re-tiling; ``blocked`` holds (scene id, uri, reason)."""
    lines = [
        f"the tiling changed ({' | '.join(sorted(changes))}), so every scene of the workspace "
        f"must be re-tiled, but {len(blocked)} scene(s) cannot be; nothing was written or "
        "deleted:"
    ]
    lines += [
        f"  {terminal_safe(sid)} ({terminal_safe(uri, 500)}): {terminal_safe(reason, 500)}"
        for sid, uri, reason in blocked
    ]
    lines.append(
        "restore or fix those files and re-run; or go back to the old options (or the tiler "
        "version that made them); or pass --drop-failed to re-tile the others and remove "
        "those scenes' old tiles (their embeddings and pairs go stale)"
    )
    return "\n".join(lines)
