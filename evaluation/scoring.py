"""Named scoring profiles: whose answer-extraction rules read the replies (``--scoring``).

Pair aggregation is MMVP's under every profile (items of one pair both right);
only the step from a reply to a choice differs, so that numbers made with
lmms-eval or VLMEvalKit can be reproduced here. Each profile is written from
that tool's source, cited below; none needs the tool installed.

- ``blindpairs`` (default): :mod:`evaluation.parsing`, a cascade that never
  guesses: a leading letter wins, option text must be the whole reply, replies
  naming both letters stay unparsed.
- ``lmms-eval``: ``_extract_answer_letter`` of lmms-eval's MMVP task
  (``lmms_eval/tasks/mmvp/utils.py``): the first regex that matches anywhere in
  the reply, case-insensitive: the bare letter, a letter at the start followed by
  ``.`` or a space, ``answer is X``, ``option X``, then *any* ``a``/``b`` followed
  by a space or the end; failing all, the reply's first character when it is
  ``a``/``b``. No option-text matching. So ``A tank farm`` reads as (a) and
  ``Blue`` as (b), where ``blindpairs`` reads neither.
- ``vlmevalkit``: ``can_infer`` of VLMEvalKit (``vlmeval/utils/matching_util.py``,
  used by ``extract_answer_from_item`` in ``vlmeval/dataset/utils/multiple_choice.py``
  under the ``exact_matching`` judge): the characters ``.()[],:;!*#{}`` become
  spaces and the reply is split on whitespace; exactly one of the upper-case
  tokens ``A``/``B`` gives that letter (case-sensitive: ``a`` is not a choice);
  otherwise ``can_infer_text``: exactly one option text occurring as a
  lower-case substring (also tried when both letters occur). Anything else is
  ``Z`` (wrong). So ``b`` alone is unparsed and ``The roof is not red`` reads as
  the option ``red``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from evaluation.items import BenchItem
from evaluation.parsing import PARSER_VERSION, parse_answer

Parser = Callable[[str | None, BenchItem], tuple[str | None, str | None]]


@dataclass(frozen=True)
class Profile:
    """How one tool turns a reply into a choice."""

    name: str
    version: str  # changes whenever the rules change
    parse: Parser
    source: str  # where the rules come from


_LMMS_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("bare", r"^\s*\(?([AB])\)?\.?\s*$"),
        ("leading", r"^\s*\(?([AB])\)?[\.\s]"),
        ("answer_is", r"answer\s+is\s+\(?([AB])\)?"),
        ("option", r"option\s+\(?([AB])\)?"),
        ("standalone", r"\(?([AB])\)?(?:\s|$)"),
    )
)


def parse_lmms_eval(response: str | None, item: BenchItem) -> tuple[str | None, str | None]:
    """lmms-eval's MMVP extraction (``_extract_answer_letter``): regexes, then the first char."""
    text = (response or "").strip()
    for name, pattern in _LMMS_PATTERNS:
        m = pattern.search(text)
        if m:
            return m.group(1).lower(), name
    if text and text[0].lower() in "ab":
        return text[0].lower(), "first_char"
    return None, None


_VLM_PUNCT = str.maketrans({c: " " for c in ".()[],:;!*#{}"})
_VLM_REFUSALS = (
    "Sorry, I can't help with images of people yet.",
    "I can't process this file.",
    "I'm sorry, but without the image provided",
    "Cannot determine the answer",
)


def parse_vlmevalkit(response: str | None, item: BenchItem) -> tuple[str | None, str | None]:
    """VLMEvalKit's ``can_infer``: one upper-case letter token, else one option substring."""
    text = str(response if response is not None else "")
    if "Failed to obtain answer via API" not in text:  # that reply skips to text matching
        if any(r in text for r in _VLM_REFUSALS):
            return None, None  # 'Z': never right
        tokens = text.translate(_VLM_PUNCT).split()
        letters = [c for c in ("A", "B") if c in tokens]
        if len(letters) == 1:
            return letters[0].lower(), "option"
        if not letters and "Z" in tokens:
            return None, None  # 'Z'
    low = text.lower()
    found = [c for c, opt in (("a", item.option_a), ("b", item.option_b)) if opt.lower() in low]
    return (found[0], "text") if len(found) == 1 else (None, None)


PROFILES: dict[str, Profile] = {
    "blindpairs": Profile("blindpairs", PARSER_VERSION, parse_answer, "evaluation/parsing.py"),
    "lmms-eval": Profile(
        "lmms-eval", "lmms-eval-mmvp-v1", parse_lmms_eval, "lmms_eval/tasks/mmvp/utils.py"
    ),
    "vlmevalkit": Profile(
        "vlmevalkit", "vlmevalkit-can-infer-v1", parse_vlmevalkit, "vlmeval/utils/matching_util.py"
    ),
}
DEFAULT_PROFILE = "blindpairs"


def get_profile(name: str) -> Profile:
    """The profile called ``name``; ValueError lists the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown scoring profile {name!r} (known: {', '.join(PROFILES)})"
        ) from None
