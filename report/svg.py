"""Inline SVG made in Python: linear scales, nice ticks and escaped elements.

Every attribute value and text goes through :func:`html.escape`, so data can
never close a tag; the output is well-formed XML that also sits inside HTML.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

# Categorical colours (Okabe-Ito, colour-blind safe), then a few more.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#999999",
    "#8C564B",
)


def esc(value: object) -> str:
    """Text or attribute value, escaped for HTML and XML."""
    return html.escape(str(value), quote=True)


def fmt(value: float) -> str:
    """A coordinate with two decimals and no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def color(i: int) -> str:
    """The ``i``-th categorical colour (cycling)."""
    return PALETTE[i % len(PALETTE)]


@dataclass(frozen=True)
class Scale:
    """A linear map from the data interval ``[d0, d1]`` to the pixel interval ``[p0, p1]``."""

    d0: float
    d1: float
    p0: float
    p1: float

    def __call__(self, value: float) -> float:
        span = self.d1 - self.d0
        t = 0.5 if span == 0 else (value - self.d0) / span
        return self.p0 + t * (self.p1 - self.p0)

    def ticks(self, count: int = 5) -> list[float]:
        """Round values inside the domain, about ``count`` of them."""
        lo, hi = sorted((self.d0, self.d1))
        if hi <= lo:
            return [lo]
        raw = (hi - lo) / max(count, 1)
        mag = 10 ** math.floor(math.log10(raw))
        step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
        first = math.ceil(lo / step - 1e-9) * step
        out = []
        v = first
        while v <= hi + 1e-9 * step:
            out.append(round(v, 10))
            v += step
        return out


def attrs(**kw: object) -> str:
    """`` key="value"`` pairs (``cls`` -> ``class``, ``_`` -> ``-``; None values dropped)."""
    parts = []
    for key, value in kw.items():
        if value is None:
            continue
        name = "class" if key == "cls" else key.replace("_", "-")
        shown = fmt(value) if isinstance(value, float) else value
        parts.append(f' {name}="{esc(shown)}"')
    return "".join(parts)


def element(tag: str, content: str | None = None, **kw: object) -> str:
    """``<tag .../>`` or ``<tag ...>content</tag>`` (content is already markup)."""
    if content is None:
        return f"<{tag}{attrs(**kw)}/>"
    return f"<{tag}{attrs(**kw)}>{content}</{tag}>"


def title(text: str) -> str:
    """A tooltip child element."""
    return f"<title>{esc(text)}</title>"


def text(x: float, y: float, content: object, **kw: object) -> str:
    """An escaped text label."""
    return element("text", esc(content), x=float(x), y=float(y), **kw)


def points(coords: list[tuple[float, float]]) -> str:
    """A ``points`` attribute value."""
    return " ".join(f"{fmt(x)},{fmt(y)}" for x, y in coords)


def document(width: int, height: int, body: list[str], label: str, cls: str = "fig") -> str:
    """An ``<svg>`` element of the given size, described by ``label`` for screen readers."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg"{attrs(cls=cls, width=width, height=height)}'
        f"{attrs(viewBox=f'0 0 {width} {height}', role='img', aria_label=label)}>"
    )
    return head + title(label) + "".join(body) + "</svg>"
