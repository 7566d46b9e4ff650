"""Page sections of the mining side: pair gallery, scatter, yield heat map, footprint map."""

from __future__ import annotations

from typing import Any

from blindpairs.footprints import format_lonlat
from report import charts
from report.gather import Tiles, read_tile_images
from report.html import esc, img, not_yet, section, unreadable
from report.inputs import ReportInputs
from report.mapplot import footprint_map
from report.params import ReportParams
from report.thumbs import Assets

MINE = "blindpairs mine"


def _tile_side(label: str, tile_id: str, tiles: Tiles, src: str | None, size: int) -> str:
    info = tiles.by_id.get(tile_id)
    scene = info.scene_id if info else "tile not in tiles/"
    where = format_lonlat(info.center, "unknown") if info else "unknown"
    return (
        f'<div class="side">{img(src, f"tile {label}", size)}'
        f'<div class="meta"><b>{esc(label)}</b> {esc(scene)}<br>{esc(where)}<br>'
        f'<span class="id">{esc(tile_id)}</span></div></div>'
    )


def gallery(inp: ReportInputs, assets: Assets, params: ReportParams) -> str:
    """The mined pairs best first, each tile as a thumbnail with its scene and place."""
    src = inp.pairs
    if src.error:
        return section("gallery", "Mined pairs", unreadable(str(src.path), src.error))
    if src.value is None:
        return section("gallery", "Mined pairs", not_yet("Mined pairs", MINE))
    rows = src.value.rows[: params.max_pairs]
    if not rows:
        return section(
            "gallery", "Mined pairs", '<p class="empty">The mine stage found no pairs.</p>'
        )
    wanted = {r["tile_a"] for r in rows} | {r["tile_b"] for r in rows}
    images = read_tile_images(inp.tiles.parts, wanted)
    cards = []
    for r in rows:
        sides = "".join(
            _tile_side(
                label,
                r[key],
                inp.tiles,
                assets.add(f"tile {r[key]}", images.get(r[key])),
                params.thumb_size,
            )
            for label, key in (("A", "tile_a"), ("B", "tile_b"))
        )
        sims = (
            f"CLIP {r['clip_sim']:.3f} · DINOv2 {r['dino_sim']:.3f} · "
            f"gap {r['clip_sim'] - r['dino_sim']:.3f}"
        )
        cards.append(
            f'<figure class="pair"><div class="pair-head">'
            f'<span class="rank">#{esc(r["rank"])}</span> {esc(sims)} '
            f'<span class="id">{esc(r.get("pair_id", ""))}</span></div>'
            f'<div class="sides">{sides}</div></figure>'
        )
    total = len(src.value.rows)
    tau_clip, tau_dino = src.value.taus
    caption = (
        f"{len(rows)} of {total} pairs, best first (rank of the mine stage); "
        f"CLIP cosine ≥ {tau_clip:g} and DINOv2 cosine &lt; {tau_dino:g}; "
        f"encoders {esc(src.value.meta.get('clip_encoder', '?'))} and "
        f"{esc(src.value.meta.get('dino_encoder', '?'))}."
    )
    return section(
        "gallery", "Mined pairs", f'<div class="gallery">{"".join(cards)}</div>', caption
    )


def scatter(inp: ReportInputs) -> str:
    """CLIP against DINOv2 similarity with the thresholds."""
    src, pairs = inp.similarities, inp.pairs.value
    heading = "CLIP vs DINOv2 similarity"
    if src.error:
        return section("scatter", heading, unreadable(str(src.path), src.error))
    if src.value is None or pairs is None:
        return section("scatter", heading, not_yet("Similarities", MINE))
    sims = src.value
    tau_clip, tau_dino = pairs.taus
    if sims.source == "candidates":
        what = (
            "candidate pairs the mine stage kept (pairs/candidates.parquet: every pair its "
            "CLIP search found, before the same-place exclusion and the per-tile cap)"
        )
    else:
        what = "selected pairs only (pairs/pairs.parquet; no candidate file in this workspace)"
    shown = (
        f"{len(sims.clip)} of {sims.total}, an even sample"
        if sims.total > len(sims.clip)
        else f"all {sims.total}"
    )
    caption = (
        f"Each dot is one of the {esc(what)}: {esc(shown)}. Lines: τ_clip = {tau_clip:g} "
        f"(vertical) and τ_dino = {tau_dino:g} (horizontal); the shaded corner is where CLIP-blind "
        "pairs come from."
    )
    return section("scatter", heading, charts.scatter(sims, tau_clip, tau_dino), caption)


def yield_grid(inp: ReportInputs) -> str:
    """The pair-yield grid as a heat map."""
    src = inp.pair_yield
    heading = "Pair yield over the thresholds"
    if src.error:
        return section("yield", heading, unreadable(str(src.path), src.error))
    if src.value is None:
        return section("yield", heading, not_yet("The yield grid", MINE))
    grid: dict[str, Any] = src.value
    tau_clip, tau_dino = inp.pairs.value.taus if inp.pairs.value else (float("nan"),) * 2
    caption = (
        f"Pairs with CLIP cosine ≥ τ_clip (rows) and DINOv2 cosine &lt; τ_dino (columns) among "
        f"{esc(grid.get('tiles', '?'))} tiles, after the same-place exclusion; in brackets what "
        f"the per-tile cap of {esc(grid.get('cap', '?'))} keeps."
    )
    return section("yield", heading, charts.heatmap(grid, tau_clip, tau_dino), caption)


def footprints(inp: ReportInputs, params: ReportParams) -> str:
    """Where the tiles and pairs are."""
    heading = "Where the tiles and pairs are"
    if not inp.tiles.by_id:
        return section("map", heading, not_yet("Tiles", "blindpairs tile SCENES..."))
    pairs = inp.pairs.value.rows if inp.pairs.value else []
    made = footprint_map(inp.tiles, pairs, params.max_map_tiles)
    if made is None:
        return section("map", heading, '<p class="error">No tile has a readable footprint.</p>')
    figure, lay = made
    legend = "".join(
        f'<span class="key"><i style="background:{esc(c)}"></i>{esc(s)}</span>'
        for s, c in lay.scene_colors.items()
    )
    sampled = f" (an even sample of {len(lay.drawn)})" if len(lay.drawn) < lay.total else ""
    caption = (
        f"Footprints of {lay.total} tiles{esc(sampled)} in lon/lat (equirectangular), one colour "
        f"per scene, ringed at each scene's centre; lines join the two tiles of each of the "
        f"{len(pairs)} selected pairs."
    )
    return section("map", heading, figure + f'<div class="legend">{legend}</div>', caption)
