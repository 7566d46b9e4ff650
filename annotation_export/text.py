"""Showing untrusted text safely: annotators' text is kept as written and escaped here."""

from __future__ import annotations

import html
import re
from xml.sax.saxutils import quoteattr

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def md_escape(text: object) -> str:
    """``text`` for a Markdown table cell or line: HTML-escaped, Markdown-inert, one line."""
    escaped = html.escape(str(text), quote=True)
    escaped = _MD_SPECIAL.sub(r"\\\1", escaped)
    return " ".join(escaped.split())


def xml_attr(text: object) -> str:
    """``text`` as a quoted XML attribute value."""
    return quoteattr(str(text))


def terminal_safe(text: object, limit: int = 200) -> str:
    """``text`` for a terminal line: control characters shown as escapes, shortened."""
    out = _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode(), str(text))
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return out if len(out) <= limit else out[: limit - 3] + "..."


def normalise(text: str) -> str:
    """Text compared for equality: whitespace collapsed, case folded."""
    return " ".join(str(text).split()).casefold()
