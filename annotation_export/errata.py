"""Errata: corrections keyed by pair id, applied after annotation, with provenance kept.

The file (YAML or JSON) maps a pair id to the fields to change and why::

    9f3c...:
      question: Is there a bridge over the river?
      answer_a: b
      answer_b: a
      reason: answers were swapped
      author: jdoe
      date: 2025-05-01

``drop: true`` removes the pair from the benchmark. ``reason`` is required.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from annotation_export import labeling_config as tags
from annotation_export.validation import Item, check_fields, item_from_fields
from blindpairs.errors import InputError

EDITABLE = ("category", "question", "option_a", "option_b", "answer_a", "answer_b")
PROVENANCE = ("reason", "author", "date")


@dataclass(frozen=True)
class Erratum:
    """One correction of one pair."""

    pair_id: str
    changes: dict[str, str]
    drop: bool
    provenance: dict[str, str]


@dataclass(frozen=True)
class Errata:
    """A loaded errata file."""

    source: str
    sha256: str
    entries: dict[str, Erratum]
    problems: tuple[tuple[str, str], ...]


def _parse_entry(pair_id: str, raw: Any) -> Erratum:
    if not isinstance(raw, dict):
        raise ValueError("entry is not a mapping of field to value")
    unknown = sorted(set(map(str, raw)) - set(EDITABLE) - set(PROVENANCE) - {"drop"})
    if unknown:
        raise ValueError(
            f"unknown field(s) {', '.join(unknown)} (known: {', '.join(EDITABLE)}, drop)"
        )
    if not str(raw.get("reason") or "").strip():
        raise ValueError("no reason given; every erratum needs one")
    changes = {k: " ".join(str(raw[k]).split()) for k in EDITABLE if k in raw}
    if not changes and not raw.get("drop"):
        raise ValueError("changes nothing (give a field to correct or drop: true)")
    provenance = {k: str(raw[k]) for k in PROVENANCE if raw.get(k) is not None}
    return Erratum(pair_id, changes, bool(raw.get("drop")), provenance)


def load_errata(path: Path) -> Errata:
    """Read an errata file; a bad entry is listed, a bad file fails."""
    import yaml

    try:
        data = path.read_bytes()
        raw = yaml.safe_load(data.decode("utf-8")) or {}
    except OSError as exc:
        raise InputError(str(path), f"cannot read errata: {exc.strerror}") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(str(path), f"errata is not valid YAML/JSON: {exc}") from None
    except RecursionError:
        raise InputError(str(path), "errata is nested too deeply to be an errata file") from None
    if not isinstance(raw, dict):
        raise InputError(str(path), "errata must be a mapping of pair id to corrections")
    entries: dict[str, Erratum] = {}
    problems: list[tuple[str, str]] = []
    for pair_id, entry in raw.items():
        try:
            entries[str(pair_id)] = _parse_entry(str(pair_id), entry)
        except ValueError as exc:
            problems.append((f"errata {pair_id}", str(exc)))
    return Errata(str(path), hashlib.sha256(data).hexdigest(), entries, tuple(problems))


def _fields(item: Item) -> dict[str, str]:
    return {
        tags.CATEGORY: item.category,
        tags.QUESTION: item.question,
        tags.OPTION_A: item.option_a,
        tags.OPTION_B: item.option_b,
        tags.ANSWER_A: item.answer_a,
        tags.ANSWER_B: item.answer_b,
    }


def apply_erratum(item: Item, erratum: Erratum) -> tuple[Item | None, list[dict[str, str]]]:
    """The corrected item (None when dropped) and the list of changes made.

    Raises ValueError when the corrected item breaks a validation rule.
    """
    changes = [
        {"field": k, "old": str(getattr(item, k)), "new": v}
        for k, v in erratum.changes.items()
        if str(getattr(item, k)) != v
    ]
    if erratum.drop:
        return None, changes
    fields = _fields(replace(item, **erratum.changes))
    problems = check_fields(fields)
    if problems:
        raise ValueError("the corrected item is invalid: " + "; ".join(problems))
    return item_from_fields(fields), changes
