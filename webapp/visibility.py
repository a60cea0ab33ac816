"""Hidden means hidden: what a viewer may see of each case of a graded run.

This is the ONE place that decides it; the submission page and the JSON API both show
`case_views(...)`. A case's `feedback` is the grader's own words, computed outside the
sandbox, and is shown to everyone who may open the submission. Its `detail` (the student's
exception text and where it was raised) and `output` (what the case printed) are words the
student's code chose, so they are shown to the student only when the case's visibility
allows: `visible` always, `after_deadline` once the student's effective deadline (extension
and grace included) has passed, `hidden` never. Staff see everything. Plain values in,
plain values out: unit-tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

VISIBLE, HIDDEN, AFTER_DEADLINE = "visible", "hidden", "after_deadline"
HIDDEN_ERROR = "Your code raised an exception (details are hidden for this case)."
HIDDEN_WHY = (
    "Details of hidden cases (inputs, prints, error messages) are shown to staff only, "
    "so the hidden tests stay a fair test for everyone."
)


class CaseLike(Protocol):
    """What is read of a case: a CaseResult row or grader.CaseOutcome."""

    name: str
    points: float
    max_points: float
    status: str
    feedback: str
    seconds: float | None
    detail: str
    output: str
    visibility: str


@dataclass(frozen=True)
class CaseView:
    """One case as one viewer sees it; `detail` and `output` are None when withheld."""

    name: str
    points: float
    max_points: float
    status: str
    feedback: str
    seconds: float | None
    visibility: str
    shown: bool  # details (exception text, prints) shown to this viewer
    detail: str | None
    output: str | None

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "points": self.points,
            "max_points": self.max_points,
            "status": self.status,
            "feedback": self.feedback,
            "visibility": self.visibility,
            "details_shown": self.shown,
            "detail": self.detail,
            "output": self.output,
        }


def deadline_passed(deadline: datetime | None, now: datetime) -> bool:
    """True once `deadline` is reached; no deadline counts as not yet passed."""
    return deadline is not None and now >= deadline


def details_shown(
    visibility: str, *, staff: bool, deadline: datetime | None, now: datetime
) -> bool:
    """Whether a viewer sees a case's exception text and prints. `deadline` is the student's
    effective deadline (webapp.gradebook.service.effective_deadline); unknown visibilities
    count as hidden."""
    if staff or visibility == VISIBLE:
        return True
    return visibility == AFTER_DEADLINE and deadline_passed(deadline, now)


def case_view(case: CaseLike, *, staff: bool, deadline: datetime | None, now: datetime) -> CaseView:
    """The case as this viewer may see it: withheld details are None, and a withheld error
    says only that the code raised (never the exception's type or words)."""
    shown = details_shown(case.visibility, staff=staff, deadline=deadline, now=now)
    feedback = case.feedback
    if not shown and case.status == "error":
        feedback = HIDDEN_ERROR
    return CaseView(
        name=case.name,
        points=case.points,
        max_points=case.max_points,
        status=case.status,
        feedback=feedback,
        seconds=case.seconds,
        visibility=case.visibility,
        shown=shown,
        detail=case.detail if shown else None,
        output=case.output if shown else None,
    )


def case_views(
    cases: Iterable[CaseLike], *, staff: bool, deadline: datetime | None, now: datetime
) -> list[CaseView]:
    return [case_view(c, staff=staff, deadline=deadline, now=now) for c in cases]


def withheld_notes(views: Sequence[CaseView], deadline: datetime | None) -> list[str]:
    """One sentence per reason some cases' details are withheld from this viewer (none when
    nothing is withheld); `deadline` as for details_shown."""
    withheld = {v.visibility for v in views if not v.shown}
    notes = []
    if withheld - {AFTER_DEADLINE}:
        notes.append(HIDDEN_WHY)
    if AFTER_DEADLINE in withheld and deadline is not None:
        notes.append(
            "Details of the cases marked “after deadline” are shown after your deadline, "
            f"{deadline:%Y-%m-%d %H:%M} UTC."
        )
    elif AFTER_DEADLINE in withheld:
        notes.append(
            "Details of the cases marked “after deadline” are shown once the assignment's "
            "deadline has passed (none is set yet)."
        )
    return notes
