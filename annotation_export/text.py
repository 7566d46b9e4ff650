"""Showing untrusted text safely: annotators' text is kept as written and escaped here."""

from __future__ import annotations

import html
import re
from xml.sax.saxutils import quoteattr

from blindpairs.terminal import terminal_safe

__all__ = ["md_escape", "normalise", "terminal_safe", "xml_attr"]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def md_escape(text: object) -> str:
    """``text`` for a Markdown table cell or line: HTML-escaped, Markdown-inert, one line."""
    escaped = html.escape(str(text), quote=True)
    escaped = _MD_SPECIAL.sub(r"\\\1", escaped)
    return " ".join(escaped.split())


def xml_attr(text: object) -> str:
    """``text`` as a quoted XML attribute value."""
    return quoteattr(str(text))


def normalise(text: str) -> str:
    """Text compared for equality: whitespace collapsed, case folded."""
    return " ".join(str(text).split()).casefold()
