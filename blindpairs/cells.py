"""Untrusted text in table cells: Markdown table cells and spreadsheet (CSV/TSV) cells.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab, a
carriage return or a NUL (and their full-width forms) as a formula
(``=HYPERLINK(...)``): CSV injection. Per OWASP's advice such a cell is written
with a single quote in front (:func:`to_spreadsheet`), which spreadsheets show
as plain text; :func:`from_spreadsheet` takes it off again, so that reading a
file back gives exactly the text that was written.
"""

from __future__ import annotations

import html
import re

FORMULA_START = frozenset("=+-@\t\r\n\0\uff1d\uff0b\uff0d\uff20")
QUOTE = "'"
# inside a table cell: emphasis, code, links and the cell separator (HTML is escaped apart)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def _needs_quote(text: str) -> bool:
    """Whether ``text`` starts a formula, or would read back as one once unquoted."""
    if text[:1] in FORMULA_START:
        return True
    return text.startswith(QUOTE) and _needs_quote(text[1:])


def to_spreadsheet(value: object) -> object:
    """``value`` safe for a CSV/TSV cell: text that a spreadsheet would run gets a ``'``."""
    if isinstance(value, str) and _needs_quote(value):
        return QUOTE + value
    return value


def from_spreadsheet(value: object) -> object:
    """The text :func:`to_spreadsheet` was given (other values pass through)."""
    if isinstance(value, str) and value.startswith(QUOTE) and _needs_quote(value[1:]):
        return value[1:]
    return value


def markdown(value: object) -> str:
    """``value`` for a Markdown table cell: HTML-escaped, Markdown-inert, ``|``-safe, one line."""
    escaped = _MD_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=True))
    return " ".join(escaped.split())
