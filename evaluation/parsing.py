"""Deterministic answer parsing (``blindpairs`` profile): the first rule that matches wins.

Cascade version :data:`PARSER_VERSION`; any change to a rule means a new version
(the version goes into every score and into the run's signature).

The reply is first trimmed and stripped of Markdown emphasis (``**B**`` reads
as ``B``) and of a leading ``Answer:`` / ``The answer is`` / ``Final answer:``.

1. ``bare``: the whole reply is one letter, optionally bracketed or followed by
   punctuation: ``a``, ``(B)``, ``A.``, ``b)``, ``**B**``, ``Answer: **B**``.
2. ``leading``: the reply starts with a letter that ends there, followed by an
   explanation: ``(b) Closed``, ``b) ...``, ``B. ...``, ``A: ...``, ``A - ...``,
   ``A\\n\\nThe image shows ...``, ``B because ...`` (a bare letter before a word
   counts only before ``because``/``since``/``as``, so the article in ``A tank
   ...`` is not a choice). A leading letter wins over any option text later in
   the reply. When the reply lists both markers (``a) Open b) Closed``: the
   options repeated back), it is unparsed.
3. ``phrase``: ``answer is (a)``, ``answer: B``, ``option b``, ``choice (a)``;
   when such phrases name both letters, the reply is unparsed (no later rule).
4. ``bracketed``: one distinct bracketed letter ``(a)``/``(b)`` occurs (both:
   unparsed, no later rule).
5. ``option_text``: the whole reply, with surrounding punctuation trimmed, is
   one option's text (case-insensitive). A word inside the reply never counts:
   ``No idea`` and ``There is no way to tell`` are not the option ``No``.

Anything else is unparsed (``None``): it counts as wrong and is counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from evaluation.items import BenchItem

PARSER_VERSION = "blindpairs-v2"

_EMPHASIS = re.compile(r"\*\*|__|`|(?<!\w)\*|\*(?!\w)")
_PREFIX = re.compile(
    r"^\s*(?:the\s+)?(?:correct\s+|final\s+|best\s+)?answer\s*(?:is|would\s+be|:)\s*",
    re.IGNORECASE,
)
_BARE = re.compile(r"^\W*\(?\s*([ab])\s*[).:]?\W*$", re.IGNORECASE)
# A letter that ends where it stands: bracketed, followed by punctuation, a dash,
# a line break, the end, or a connective word.
_LEADING = re.compile(
    r"^\s*(?:\(([ab])\)|([ab])(?:[.):,;]|\s*[-\u2013\u2014]\s|\s*\n|$|\s+(?:because|since|as)\b))",
    re.IGNORECASE,
)
# Option markers as a model repeats them back: "(a)", "a)", or "A." / "A:" opening a line.
_MARKER = re.compile(r"\(([ab])\)|(?<!\w)([ab])\)|^\s*([ab])[.:]", re.IGNORECASE | re.MULTILINE)
_PHRASE = re.compile(
    r"\b(?:answer|option|choice)\s*(?:is|would be)?\s*[:\-]?\s*"
    r"(?:\(([ab])\)|([ab])(?=\s*(?:[.,;:!)]|$)))",
    re.IGNORECASE,
)
_BRACKETED = re.compile(r"\(([ab])\)", re.IGNORECASE)
_TRIM = " \t\r\n.,;:!?\"'()[]{}"

AMBIGUOUS = "ambiguous"  # a rule saw both letters: stop, the reply is unparsed

Rule = Callable[[str, BenchItem], "str | None"]


def normalise(response: str) -> str:
    """The reply without Markdown emphasis and without a leading ``Answer:``."""
    text = _EMPHASIS.sub("", response).strip()
    return _PREFIX.sub("", text, count=1).strip() or text


def _bare(text: str, item: BenchItem) -> str | None:
    m = _BARE.match(text)
    return m.group(1).lower() if m else None


def _leading(text: str, item: BenchItem) -> str | None:
    m = _LEADING.match(text)
    if not m:
        return None
    if len({"".join(m).lower() for m in _MARKER.findall(text)}) > 1:
        return AMBIGUOUS  # both markers: the options repeated back
    return (m.group(1) or m.group(2)).lower()


def _unique(letters: list[str]) -> str | None:
    found = {x.lower() for x in letters}
    if len(found) > 1:
        return AMBIGUOUS
    return found.pop() if found else None


def _phrase(text: str, item: BenchItem) -> str | None:
    return _unique([x or y for x, y in _PHRASE.findall(text)])


def _bracketed(text: str, item: BenchItem) -> str | None:
    return _unique(_BRACKETED.findall(text))


def _squash(text: str) -> str:
    return " ".join(text.strip(_TRIM).split()).lower()


def _option_text(text: str, item: BenchItem) -> str | None:
    reply = _squash(text)
    a, b = _squash(item.option_a), _squash(item.option_b)
    if not reply or a == b:
        return None
    return "a" if reply == a else "b" if reply == b else None


CASCADE: tuple[tuple[str, Rule], ...] = (
    ("bare", _bare),
    ("leading", _leading),
    ("phrase", _phrase),
    ("bracketed", _bracketed),
    ("option_text", _option_text),
)


def parse_answer(response: str | None, item: BenchItem) -> tuple[str | None, str | None]:
    """Return ``(choice, rule)``: ``'a'``/``'b'`` and the rule that matched, or ``(None, None)``."""
    if not response or not response.strip():
        return None, None
    text = normalise(response)
    for name, rule in CASCADE:
        choice = rule(text, item)
        if choice == AMBIGUOUS:
            return None, None
        if choice is not None:
            return choice, name
    return None, None
