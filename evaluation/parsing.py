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
   the reply (``A. Open. Not (b) closed.``, ``A. Although (b) might seem right,
   open``). The reply is the options repeated back, and unparsed, only when the
   other letter's marker (``(b)``, ``b)``, ``B.``, ``B:``) opens a line
   (``A. Open\\nB. Closed``) or comes right after the first option's text or
   after ``or``/``and``/``/`` (``a) Open b) Closed``, ``(a) or (b)``), or when a
   later "answer is" names the other letter (``(a). No wait, the answer is
   (b).``). A dash after the letter needs a space unless it is an en or em dash
   (``B—closed``).
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

PARSER_VERSION = "blindpairs-v3"

_EMPHASIS = re.compile(r"\*\*|__|`|(?<!\w)\*|\*(?!\w)")
_PREFIX = re.compile(
    r"^\s*(?:the\s+)?(?:correct\s+|final\s+|best\s+)?answer\s*(?:is|would\s+be|:)\s*",
    re.IGNORECASE,
)
_BARE = re.compile(r"^\W*\(?\s*([ab])\s*[).:]?\W*$", re.IGNORECASE)
# A letter that ends where it stands: bracketed, followed by punctuation, a dash,
# a line break, the end, or a connective word.
_LEADING = re.compile(
    r"^\s*(?:\(([ab])\)|([ab])(?:[.):,;]|\s*-\s|\s*[\u2013\u2014]|\s*\n|$|\s+(?:because|since|as)\b))",
    re.IGNORECASE,
)
_OTHER = {"a": "b", "b": "a"}
_PHRASE = re.compile(
    r"\b(?:answer|option|choice)\s*(?:is|would be)?\s*[:\-]?\s*"
    r"(?:\(([ab])\)|([ab])(?=\s*(?:[.,;:!)]|$)))",
    re.IGNORECASE,
)
_ANSWER_PHRASE = re.compile(
    r"\banswer\s*(?:is|would be)?\s*[:\-]?\s*(?:\(([ab])\)|([ab])(?=\s*(?:[.,;:!)]|$)))",
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
    letter = (m.group(1) or m.group(2)).lower()
    if _repeated_back(text, m.end(), letter, item) or _corrected(text[m.end() :], letter):
        return AMBIGUOUS
    return letter


def _corrected(rest: str, letter: str) -> bool:
    """Whether the reply later says the answer is the other letter (a self-correction)."""
    return any((x or y).lower() == _OTHER[letter] for x, y in _ANSWER_PHRASE.findall(rest))


def _repeated_back(text: str, end: int, letter: str, item: BenchItem) -> bool:
    """Whether a reply led by ``letter`` (its marker ending at ``end``) repeats the options
    back: the other letter's marker opens a line or follows the first option's text."""
    other = _OTHER[letter]
    marker = rf"(?:\({other}\)|(?<!\w){other}[.):])"
    if re.search(rf"^[^\S\n]*{marker}", text, re.IGNORECASE | re.MULTILINE):
        return True
    own = r"\s+".join(map(re.escape, (item.option_a if letter == "a" else item.option_b).split()))
    follows = rf"\s*(?:{own})?[\s.,;:]*(?:(?:or|and)\s+|/\s*)?{marker}"
    return re.match(follows, text[end:], re.IGNORECASE) is not None


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
