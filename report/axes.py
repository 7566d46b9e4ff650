"""A plot frame: margins, two scales, grid lines, ticks and axis titles."""

from __future__ import annotations

from dataclasses import dataclass

from report import svg

MARGIN = {"left": 60, "right": 20, "top": 16, "bottom": 48}


def domain(
    values: list[float], extra: tuple[float, ...] = (), pad: float = 0.05
) -> tuple[float, float]:
    """An interval holding ``values`` and ``extra`` with ``pad`` of its width on each side."""
    every = [*values, *extra]
    if not every:
        return 0.0, 1.0
    lo, hi = min(every), max(every)
    width = hi - lo or max(abs(hi), 1.0) * 0.1
    return lo - pad * width, hi + pad * width


@dataclass(frozen=True)
class Frame:
    """A ``width`` x ``height`` plot whose data area maps ``x`` and ``y`` domains."""

    width: int
    height: int
    x_domain: tuple[float, float]
    y_domain: tuple[float, float]

    @property
    def x(self) -> svg.Scale:
        return svg.Scale(*self.x_domain, MARGIN["left"], self.width - MARGIN["right"])

    @property
    def y(self) -> svg.Scale:
        # data grows upwards: the domain's low end sits at the bottom
        return svg.Scale(*self.y_domain, self.height - MARGIN["bottom"], MARGIN["top"])

    def axes(
        self, x_title: str, y_title: str, x_format: str = "{:g}", y_format: str = "{:g}"
    ) -> list[str]:
        """Grid lines, tick labels and titles."""
        x, y = self.x, self.y
        top, bottom = MARGIN["top"], self.height - MARGIN["bottom"]
        left, right = MARGIN["left"], self.width - MARGIN["right"]
        out = [
            svg.element(
                "rect",
                x=float(left),
                y=float(top),
                width=float(right - left),
                height=float(bottom - top),
                cls="plot-bg",
            )
        ]
        for v in x.ticks():
            px = x(v)
            out.append(
                svg.element("line", x1=px, y1=float(top), x2=px, y2=float(bottom), cls="grid")
            )
            out.append(
                svg.text(px, bottom + 16, x_format.format(v), cls="tick", text_anchor="middle")
            )
        for v in y.ticks():
            py = y(v)
            out.append(
                svg.element("line", x1=float(left), y1=py, x2=float(right), y2=py, cls="grid")
            )
            out.append(
                svg.text(left - 6, py + 4, y_format.format(v), cls="tick", text_anchor="end")
            )
        out.append(
            svg.text(
                (left + right) / 2,
                self.height - 10,
                x_title,
                cls="axis-title",
                text_anchor="middle",
            )
        )
        out.append(
            svg.text(
                14,
                (top + bottom) / 2,
                y_title,
                cls="axis-title",
                text_anchor="middle",
                transform=f"rotate(-90 14 {svg.fmt((top + bottom) / 2)})",
            )
        )
        return out
