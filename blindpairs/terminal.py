"""Showing untrusted text (file names, annotators' text) on a terminal line safely."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: object, limit: int = 200) -> str:
    """``text`` for a terminal line: control characters shown as escapes, shortened."""
    out = _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode(), str(text))
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return out if len(out) <= limit else out[: limit - 3] + "..."
