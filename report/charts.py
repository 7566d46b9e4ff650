"""The mining figures: CLIP vs DINOv2 scatter with thresholds, and the yield heat map."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from report import svg
from report.axes import Frame, domain
from report.gather import Similarities


def scatter_frame(sims: Similarities, tau_clip: float, tau_dino: float) -> Frame:
    """The frame of the scatter: x = CLIP similarity, y = DINOv2 similarity."""
    x_dom = domain(sims.clip.tolist(), (tau_clip,), pad=0.05)
    y_dom = domain(sims.dino.tolist(), (tau_dino,), pad=0.05)
    return Frame(560, 400, x_dom, y_dom)


def scatter(sims: Similarities, tau_clip: float, tau_dino: float) -> str:
    """Each pair a dot; the two thresholds as lines; the selected corner shaded."""
    frame = scatter_frame(sims, tau_clip, tau_dino)
    x, y = frame.x, frame.y
    body = frame.axes("CLIP cosine similarity", "DINOv2 cosine similarity", "{:.2f}", "{:.2f}")
    # the region CLIP-blind pairs come from: clip >= tau_clip and dino < tau_dino
    x0, x1 = x(tau_clip), x(frame.x_domain[1])
    y0, y1 = y(tau_dino), y(frame.y_domain[0])
    body.append(
        svg.element(
            "rect",
            x=x0,
            y=y0,
            width=max(x1 - x0, 0.0),
            height=max(y1 - y0, 0.0),
            cls="selected-region",
        )
    )
    selected = (sims.clip >= tau_clip) & (sims.dino < tau_dino)
    for c, d, sel in zip(sims.clip.tolist(), sims.dino.tolist(), selected.tolist(), strict=True):
        body.append(svg.element("circle", cx=x(c), cy=y(d), r=2.5, cls="pt sel" if sel else "pt"))
    top, bottom = y(frame.y_domain[1]), y(frame.y_domain[0])
    left, right = x(frame.x_domain[0]), x(frame.x_domain[1])
    body.append(svg.element("line", x1=x0, y1=top, x2=x0, y2=bottom, cls="threshold tau-clip"))
    body.append(svg.element("line", x1=left, y1=y0, x2=right, y2=y0, cls="threshold tau-dino"))
    body.append(svg.text(x0 + 4, top + 12, f"τ_clip = {tau_clip:g}", cls="threshold-label"))
    body.append(svg.text(left + 4, y0 - 4, f"τ_dino = {tau_dino:g}", cls="threshold-label"))
    label = (
        f"Scatter of CLIP against DINOv2 similarity for {len(sims.clip)} {sims.source}, "
        f"{int(selected.sum())} in the selected region"
    )
    return svg.document(frame.width, frame.height, body, label)


def heat_color(count: float, top: float) -> str:
    """White for zero, deepening blue with the log of ``count`` up to ``top``."""
    if count <= 0 or top <= 0:
        return "#ffffff"
    t = math.log1p(count) / math.log1p(top)
    light, dark = np.array([222, 235, 247]), np.array([8, 48, 107])
    r, g, b = (light + t * (dark - light)).round().astype(int).tolist()
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(grid: dict[str, Any], tau_clip: float, tau_dino: float) -> str:
    """The yield grid: rows tau_clip, columns tau_dino; each cell its pair count (and capped)."""
    tc, td = list(grid["tau_clip"]), list(grid["tau_dino"])
    counts, capped = grid["pairs"], grid.get("pairs_with_cap")
    cell_w, cell_h, left, top = 84, 40, 90, 40
    width, height = max(left + cell_w * len(td) + 16, 480), top + cell_h * len(tc) + 40
    peak = max((v for row in counts for v in row), default=0)
    body = [
        svg.text(
            left + cell_w * len(td) / 2,
            16,
            "τ_dino (DINOv2 cosine <)",
            cls="axis-title",
            text_anchor="middle",
        ),
        svg.text(12, top - 8, "τ_clip ≥", cls="axis-title"),
    ]
    for j, t in enumerate(td):
        body.append(
            svg.text(left + (j + 0.5) * cell_w, top - 8, f"{t:g}", cls="tick", text_anchor="middle")
        )
    for i, tcv in enumerate(tc):
        yy = top + i * cell_h
        body.append(
            svg.text(left - 8, yy + cell_h / 2 + 4, f"{tcv:g}", cls="tick", text_anchor="end")
        )
        for j, tdv in enumerate(td):
            xx = left + j * cell_w
            count = counts[i][j]
            current = math.isclose(tcv, tau_clip) and math.isclose(tdv, tau_dino)
            fill = heat_color(float(count), float(peak))
            body.append(
                svg.element(
                    "rect",
                    svg.title(
                        f"τ_clip {tcv:g}, τ_dino {tdv:g}: {count} pairs"
                        + (f", {capped[i][j]} with the per-tile cap" if capped else "")
                    ),
                    x=float(xx),
                    y=float(yy),
                    width=float(cell_w),
                    height=float(cell_h),
                    fill=fill,
                    cls="cell current" if current else "cell",
                )
            )
            dark = count > 0 and math.log1p(count) / math.log1p(max(peak, 1)) > 0.55
            label = f"{count}" + (f" ({capped[i][j]})" if capped else "")
            body.append(
                svg.text(
                    xx + cell_w / 2,
                    yy + cell_h / 2 + 4,
                    label,
                    cls="cell-label dark" if dark else "cell-label",
                    text_anchor="middle",
                )
            )
    note = "cell: pairs (kept by the per-tile cap); outlined: this run's thresholds"
    body.append(svg.text(left, height - 12, note, cls="note"))
    return svg.document(width, height, body, "Pair yield over the two thresholds")
