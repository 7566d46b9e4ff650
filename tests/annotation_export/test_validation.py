"""Every validation rule and the multi-annotation policies."""

from __future__ import annotations

import pytest

from annotation_export.annotations import parse_annotation, parse_tasks
from annotation_export.policy import agreement, latest
from annotation_export.validation import RULES, validate
from blindpairs.errors import InputError

from .files import annotation, result


def _verdict(res, **kw):
    return validate(parse_annotation("1", annotation(res, **kw), 0))


def test_valid_annotation_becomes_item() -> None:
    v = _verdict(result(category="Quantity and count", answer_a="(b)", answer_b="(a)"))
    assert v.kind == "valid"
    assert v.item is not None
    assert (v.item.category, v.item.answer_a, v.item.answer_b) == ("count", "b", "a")


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"question": "   "}, "empty question"),
        ({"question": None}, "empty question"),
        ({"option_a": ""}, "empty option (a)"),
        ({"option_b": None}, "empty option (b)"),
        ({"option_b": " one "}, "options (a) and (b) are the same"),
        ({"option_a": "Yes (b) no"}, "breaks MMVP's Options column"),
        ({"answer_a": None}, "no answer (a)/(b) for image A"),
        ({"answer_b": "maybe"}, "no answer (a)/(b) for image B"),
        ({"answer_b": "a"}, "both images have the same answer"),
        ({"category": "weather"}, "unknown category 'weather'"),
        ({"category": None}, "no visual pattern category"),
        # option texts other tools cannot read back (issue 11)
        ({"option_b": "None"}, "reads as a missing value (NaN) in pandas"),
        ({"option_a": "NA"}, "reads as a missing value (NaN) in pandas"),
        ({"option_b": "N/A"}, "reads as a missing value (NaN) in pandas"),
        ({"option_a": "a pool (empty)"}, "breaks lmms-eval's split"),
        ({"question": "Why " * 300}, "question is 1199 characters long; the limit is 1000"),
    ],
)
def test_each_rule_names_its_reason(kwargs, reason) -> None:
    v = _verdict(result(**kwargs))
    assert v.kind == "invalid"
    assert any(reason in p for p in v.problems), v.problems


def test_every_rule_is_exercised() -> None:
    assert set(RULES) == {
        "question", "options_present", "options_distinct", "options_markers", "lengths",
        "options_portable", "answers_present", "answers_differ", "category",
    }  # fmt: skip


def test_rejection_keeps_reason_and_needs_no_question() -> None:
    v = _verdict(result(question=None, verdict="Reject", reject_reason="both are cloud"))
    assert (v.kind, v.rejected) == ("rejected", "both are cloud")
    assert _verdict(result(verdict="reject")).rejected == "no reason given"


def test_skipped_and_malformed_annotations() -> None:
    assert _verdict(result(), cancelled=True).kind == "skipped"
    bad = validate(parse_annotation("1", {"id": 5, "result": "oops"}, 0))
    assert bad.kind == "invalid" and "not a list" in bad.problems[0]
    entry = {"from_name": "question", "value": {"text": [3]}}
    bad = validate(parse_annotation("1", {"id": 5, "result": [entry]}, 0))
    assert "not a list of strings" in bad.problems[0]
    assert validate(parse_annotation("1", "x", 0)).kind == "invalid"
    assert _verdict(result(verdict="maybe")).problems == ("unknown verdict 'maybe'",)


def test_markup_is_kept_as_text() -> None:
    v = _verdict(result(question="Is there a <b>pool</b> & a <script>x</script>?"))
    assert (
        v.item is not None and v.item.question == "Is there a <b>pool</b> & a <script>x</script>?"
    )


def test_parse_tasks_lists_bad_tasks() -> None:
    tasks, problems = parse_tasks(
        [1, {"id": 2}, {"id": 3, "data": {}}, {"id": 4, "data": {"pair_id": "p"}, "annotations": 5},
         {"id": 6, "data": {"pair_id": "p"}}],
        "x.json",
    )  # fmt: skip
    assert [t.task_id for t in tasks] == ["6"]
    assert [r for _, r in problems] == [
        "task is not an object", "task has no data object", "task has no data.pair_id",
        "annotations is not a list",
    ]  # fmt: skip
    with pytest.raises(InputError, match="JSON list"):
        parse_tasks({"tasks": []}, "x.json")


def _v(res, at, **kw):
    return _verdict(res, at=at, **kw)


def test_agreement_policy() -> None:
    one = _v(result(), "2025-01-01")
    same = _v(result(question=" how many BUILDINGS are there? "), "2025-01-02")
    other = _v(result(answer_a="b", answer_b="a"), "2025-01-03")
    rejected = _v(result(verdict="reject", reject_reason="blank"), "2025-01-04")
    invalid = _v(result(question=""), "2025-01-05")
    assert agreement([one, same], 1).status == "valid"
    assert agreement([one, same, invalid], 2).chosen is same
    d = agreement([one, other], 1)
    assert (d.status, d.chosen) == ("disagreement", None) and len(d.considered) == 2
    assert agreement([one, rejected], 1).status == "disagreement"
    assert agreement([one], 2).status == "pending"
    assert agreement([invalid], 1).status == "invalid"
    assert agreement([_v(result(), "x", cancelled=True)], 1).status == "pending"


def test_latest_policy() -> None:
    old = _v(result(), "2025-01-01")
    new = _v(result(answer_a="b", answer_b="a"), "2025-02-01")
    assert latest([new, old], 1).chosen is new
    assert latest([old, _v(result(verdict="reject"), "2025-03-01")], 1).status == "rejected"
    assert latest([old, _v(result(question=""), "2025-03-01")], 1).status == "invalid"
    assert latest([old], 2).status == "pending"
