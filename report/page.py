"""The whole page: header, random-weights banner, sections in order, problems."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from blindpairs import __version__
from report import eval_sections, mining_sections
from report.html import esc, section, table
from report.inputs import ReportInputs
from report.params import ReportParams
from report.style import CSS
from report.thumbs import Assets

# No script, no remote anything: images from this folder only, styles inline.
CSP = "default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'"

Builder = Callable[[ReportInputs, Assets, ReportParams], str]

# (anchor, navigation label, builder) in page order
SECTIONS: tuple[tuple[str, str, Builder], ...] = (
    ("gallery", "Pairs", mining_sections.gallery),
    ("scatter", "CLIP vs DINOv2", lambda inp, a, p: mining_sections.scatter(inp)),
    ("yield", "Yield", lambda inp, a, p: mining_sections.yield_grid(inp)),
    ("map", "Map", lambda inp, a, p: mining_sections.footprints(inp, p)),
    ("leaderboard", "Leaderboard", lambda inp, a, p: eval_sections.leaderboard(inp)),
    ("categories", "Categories", lambda inp, a, p: eval_sections.categories(inp)),
    ("answers", "Answers", eval_sections.answers),
)


def banner(inp: ReportInputs) -> str:
    """A loud warning when anything shown comes from random weights."""
    which = inp.random_weights()
    if not which:
        return ""
    items = "".join(f"<li>{esc(w)}</li>" for w in which)
    return (
        '<div class="banner" role="alert">RANDOM WEIGHTS: these results come from encoders '
        "or models with random weights, for testing only. They say nothing about any real "
        f"model.<ul>{items}</ul></div>"
    )


def problems(failed: list[tuple[str, str]]) -> str:
    """Inputs and items that could not be shown, with the reason."""
    if not failed:
        return ""
    rows = [[esc(what), esc(why)] for what, why in failed]
    return section("problems", "Left out", table(("what", "why"), rows, "problems"))


def render(
    inp: ReportInputs, assets: Assets, params: ReportParams
) -> tuple[str, list[tuple[str, str]]]:
    """The HTML of the page and everything that could not be shown on it."""
    body = "".join(build(inp, assets, params) for _, _, build in SECTIONS)
    failed = inp.unreadable() + assets.problems
    nav = "".join(f'<a href="#{esc(a)}">{esc(label)}</a>' for a, label, _ in SECTIONS)
    if failed:
        nav += '<a href="#problems">Left out</a>'
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    html = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>blindpairs report: {esc(inp.workspace.root.name)}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>CLIP-blind pairs: {esc(inp.workspace.root.name)}</h1>"
        f"<p>workspace {esc(inp.workspace.root.resolve())} · made {esc(when)} by blindpairs "
        f"{esc(__version__)}</p></header>"
        f"{banner(inp)}<nav>{nav}</nav><main>{body}{problems(failed)}</main></body></html>\n"
    )
    return html, failed
