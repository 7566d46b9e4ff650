"""The evaluation figures: pair accuracy with its 95% interval, and per-category bars."""

from __future__ import annotations

from typing import Any

from report import svg

CHANCE_PAIR = 0.25  # two independent coin flips per pair
ROW_H = 26
LABEL_W = 200
WIDTH = 720
RIGHT = 90  # room for the value label of a full bar


def _x(value: float) -> float:
    """Accuracy in [0, 1] -> pixel."""
    return svg.Scale(0.0, 1.0, LABEL_W, WIDTH - RIGHT)(value)


def _percent_axis(height: int, top: int) -> list[str]:
    out = []
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        px = _x(v)
        out.append(
            svg.element("line", x1=px, y1=float(top), x2=px, y2=float(height - 28), cls="grid")
        )
        out.append(svg.text(px, height - 12, f"{100 * v:.0f}%", cls="tick", text_anchor="middle"))
    chance = _x(CHANCE_PAIR)
    out.append(
        svg.element(
            "line", x1=chance, y1=float(top), x2=chance, y2=float(height - 28), cls="chance"
        )
    )
    out.append(svg.text(chance + 4, top - 4, "chance (25%)", cls="note"))
    return out


def interval_chart(rows: list[dict[str, Any]]) -> str:
    """One bar per leaderboard row: pair accuracy, with its 95% Wilson interval as a whisker."""
    top = 22
    height = top + ROW_H * len(rows) + 36
    body = _percent_axis(height, top)
    for i, row in enumerate(rows):
        yy = top + i * ROW_H
        acc = row.get("pair_accuracy")
        body.append(svg.text(LABEL_W - 8, yy + 17, row["run"], cls="bar-label", text_anchor="end"))
        if acc is None:
            body.append(svg.text(LABEL_W + 4, yy + 17, "no pairs scored", cls="note"))
            continue
        cls = "bar random" if row.get("random_weights") else "bar"
        tip = f"{row['run']}: pair accuracy {100 * acc:.1f}%"
        body.append(
            svg.element(
                "rect",
                svg.title(tip),
                x=_x(0.0),
                y=float(yy + 5),
                width=_x(acc) - _x(0.0),
                height=float(ROW_H - 10),
                cls=cls,
            )
        )
        low, high = row.get("pair_ci95_low"), row.get("pair_ci95_high")
        if low is not None and high is not None:
            mid = yy + ROW_H / 2
            body.append(svg.element("line", x1=_x(low), y1=mid, x2=_x(high), y2=mid, cls="whisker"))
            for end in (low, high):
                body.append(
                    svg.element(
                        "line", x1=_x(end), y1=mid - 5, x2=_x(end), y2=mid + 5, cls="whisker"
                    )
                )
    return svg.document(WIDTH, height, body, "Pair accuracy per model with 95% intervals")


def category_bars(categories: list[str], runs: list[tuple[str, dict[str, Any]]]) -> str:
    """Grouped bars: for each category, each run's pair accuracy in it.

    ``runs`` holds ``(run name, scores["pair_accuracy_by_category"])``.
    """
    top = 22
    group_h = ROW_H * (len(runs) + 1) + 6
    height = top + group_h * len(categories) + 36
    body = _percent_axis(height, top)
    for c, cat in enumerate(categories):
        y0 = top + c * group_h
        body.append(svg.text(8, y0 + 14, cat, cls="group-label"))
        for r, (name, by_cat) in enumerate(runs):
            yy = y0 + (r + 1) * ROW_H
            rate = by_cat.get(cat) or {}
            acc = rate.get("accuracy")
            body.append(
                svg.text(LABEL_W - 8, yy + 15, name, cls="bar-label small", text_anchor="end")
            )
            if acc is None:
                body.append(svg.text(LABEL_W + 4, yy + 15, "no pairs", cls="note"))
                continue
            tip = f"{cat}, {name}: {rate.get('correct')}/{rate.get('total')} pairs right"
            body.append(
                svg.element(
                    "rect",
                    svg.title(tip),
                    x=_x(0.0),
                    y=float(yy + 3),
                    width=_x(acc) - _x(0.0),
                    height=float(ROW_H - 8),
                    fill=svg.color(r),
                    cls="cat-bar",
                )
            )
            body.append(
                svg.text(
                    _x(acc) + 4,
                    yy + 15,
                    f"{100 * acc:.0f}% ({rate.get('correct')}/{rate.get('total')})",
                    cls="note",
                )
            )
    return svg.document(WIDTH, height, body, "Pair accuracy per visual-pattern category")
