"""Deterministic answer parsing: the first rule of the cascade that matches wins.

1. ``bare``: the whole reply is one letter, optionally bracketed or followed by
   punctuation: ``a``, ``(B)``, ``A.``, ``b)``.
2. ``leading``: the reply starts with a bracketed or punctuated letter:
   ``(a) Open``, ``B. Closed``, ``A: yes`` (not when both ``(a)`` and ``(b)`` occur).
3. ``phrase``: ``answer is (a)``, ``answer: B``, ``option b``, ``choice (a)``;
   when such phrases name both letters, the reply is unparsed (no later rule).
4. ``bracketed``: one distinct bracketed letter ``(a)``/``(b)`` occurs (both:
   unparsed, no later rule).
5. ``option_text``: exactly one option's text occurs in the reply (whole
   words, case-insensitive; when one option contains the other, the longer
   wins only if the shorter does not occur on its own).

Anything else is unparsed (``None``): it counts as wrong and is counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from evaluation.items import BenchItem

_BARE = re.compile(r"^\W*\(?\s*([ab])\s*[).:]?\W*$", re.IGNORECASE)
_LEADING = re.compile(r"^\s*(?:\(([ab])\)|([ab])[.):])(?:\s|$)", re.IGNORECASE)
_PHRASE = re.compile(
    r"\b(?:answer|option|choice)\s*(?:is|would be)?\s*[:\-]?\s*"
    r"(?:\(([ab])\)|([ab])(?=\s*(?:[.,;:!)]|$)))",
    re.IGNORECASE,
)
_BRACKETED = re.compile(r"\(([ab])\)", re.IGNORECASE)

AMBIGUOUS = "ambiguous"  # a rule saw both letters: stop, the reply is unparsed

Rule = Callable[[str, BenchItem], "str | None"]


def _bare(text: str, item: BenchItem) -> str | None:
    m = _BARE.match(text)
    return m.group(1).lower() if m else None


def _leading(text: str, item: BenchItem) -> str | None:
    m = _LEADING.match(text)
    if not m or len({x.lower() for x in _BRACKETED.findall(text)}) > 1:
        return None
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


def _mentions(text: str, option: str) -> bool:
    option = option.strip()
    if not option:
        return False
    return re.search(rf"(?<!\w){re.escape(option)}(?!\w)", text, re.IGNORECASE) is not None


def _option_text(text: str, item: BenchItem) -> str | None:
    a, b = item.option_a, item.option_b
    has_a, has_b = _mentions(text, a), _mentions(text, b)
    if has_a and has_b:
        # "No" inside "Not sure" is not a match, but "yes" inside "yes, the tank" is:
        # when one option contains the other, drop the shorter's hits inside the longer.
        long_opt, short = (a, b) if len(a) >= len(b) else (b, a)
        if _mentions(long_opt, short):
            rest = re.sub(re.escape(long_opt), " ", text, flags=re.IGNORECASE)
            if not _mentions(rest, short):
                return "a" if long_opt is a else "b"
        return None
    return "a" if has_a else "b" if has_b else None


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
    text = response.strip()
    for name, rule in CASCADE:
        choice = rule(text, item)
        if choice == AMBIGUOUS:
            return None, None
        if choice is not None:
            return choice, name
    return None, None
