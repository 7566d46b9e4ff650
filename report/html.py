"""Small HTML builders; every text from data goes through :func:`esc`."""

from __future__ import annotations

from collections.abc import Iterable

from report.svg import esc

__all__ = ["esc", "img", "note", "section", "table"]


def section(anchor: str, heading: str, body: str, caption: str = "") -> str:
    """A page section with an id for the table of contents."""
    cap = f'<p class="caption">{caption}</p>' if caption else ""
    return f'<section id="{esc(anchor)}"><h2>{esc(heading)}</h2>{cap}{body}</section>'


def note(text: str, cls: str = "note") -> str:
    """A paragraph of escaped text."""
    return f'<p class="{esc(cls)}">{esc(text)}</p>'


def not_yet(what: str, command: str) -> str:
    """What to run for a section whose stage has not run yet."""
    return (
        f'<p class="empty">{esc(what)} not available yet: run '
        f"<code>{esc(command)}</code> first.</p>"
    )


def unreadable(path: str, reason: str) -> str:
    """A section whose input exists but could not be read."""
    return f'<p class="error">Could not read <code>{esc(path)}</code>: {esc(reason)}</p>'


def img(src: str | None, alt: str, size: int) -> str:
    """An image, or a placeholder box saying it is missing."""
    if src is None:
        return (
            f'<div class="missing-img" style="width:{size}px;height:{size}px">'
            f"{esc(alt)}: image missing</div>"
        )
    return f'<img src="{esc(src)}" alt="{esc(alt)}" width="{size}" height="{size}">'


def table(header: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    """A table; header cells are escaped, row cells are markup made by the caller."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
