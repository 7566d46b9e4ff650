"""Multi-annotation policies: which annotation of a task decides, keyed by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from annotation_export.validation import Verdict


@dataclass(frozen=True)
class Decision:
    """A task's outcome under a policy."""

    chosen: Verdict | None  # the verdict that decides (valid or rejected), or None
    status: str  # valid | rejected | invalid | disagreement | pending
    reason: str = ""
    considered: tuple[Verdict, ...] = ()


Policy = Callable[[list[Verdict], int], Decision]


def _counted(verdicts: list[Verdict]) -> list[Verdict]:
    # Skipped (cancelled) annotations never count.
    return sorted(
        (v for v in verdicts if v.kind != "skipped"), key=lambda v: v.annotation.order_key()
    )


def _pending(counted: list[Verdict], minimum: int) -> Decision | None:
    if len(counted) < minimum:
        return Decision(
            None, "pending", f"{len(counted)} annotation(s), {minimum} needed", tuple(counted)
        )
    return None


def latest(verdicts: list[Verdict], minimum: int) -> Decision:
    """The most recently updated annotation decides, whatever the others say."""
    counted = _counted(verdicts)
    pending = _pending(counted, minimum)
    if pending:
        return pending
    last = counted[-1]
    if last.kind == "invalid":
        return Decision(None, "invalid", "; ".join(last.problems), tuple(counted))
    return Decision(last, last.kind, last.rejected or "", tuple(counted))


def _opinion(v: Verdict) -> tuple:
    return ("rejected",) if v.kind == "rejected" else ("valid", *v.item.key())  # type: ignore[union-attr]


def agreement(verdicts: list[Verdict], minimum: int) -> Decision:
    """Every valid annotation must agree (same verdict, category, texts and answers).

    Invalid annotations are reported and do not count towards the minimum.
    """
    counted = _counted(verdicts)
    usable = [v for v in counted if v.kind in ("valid", "rejected")]
    if not usable and counted:
        reasons = "; ".join(p for v in counted for p in v.problems)
        return Decision(None, "invalid", reasons, tuple(counted))
    pending = _pending(usable, minimum)
    if pending:
        return pending
    opinions = {_opinion(v) for v in usable}
    if len(opinions) > 1:
        return Decision(None, "disagreement", f"{len(usable)} annotations disagree", tuple(usable))
    last = usable[-1]
    return Decision(last, last.kind, last.rejected or "", tuple(counted))


POLICIES: dict[str, Policy] = {"agreement": agreement, "latest": latest}
