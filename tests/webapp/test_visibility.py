"""Hidden means hidden: which viewer sees a case's exception text and prints, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grader.job import CaseOutcome, CaseStatus
from webapp.gradebook.rules import LatePolicy, on_time_until
from webapp.visibility import (
    HIDDEN_ERROR,
    HIDDEN_WHY,
    case_view,
    case_views,
    details_shown,
    withheld_notes,
)

DUE = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
BEFORE, AFTER = DUE - timedelta(minutes=1), DUE + timedelta(minutes=1)


def case(visibility: str, status: CaseStatus = CaseStatus.ERROR) -> CaseOutcome:
    return CaseOutcome(
        "c", 0.0, 5.0, status, "grader says", 0.1, "ValueError: leaked 42", "SECRET-INPUT-123",
        visibility,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("visibility", "deadline", "now", "expected"),
    [
        ("visible", None, BEFORE, True),
        ("visible", DUE, BEFORE, True),
        ("hidden", DUE, AFTER, False),
        ("hidden", None, AFTER, False),
        ("after_deadline", DUE, BEFORE, False),
        ("after_deadline", DUE, DUE, True),  # the deadline itself counts as passed
        ("after_deadline", DUE, AFTER, True),
        ("after_deadline", None, AFTER, False),  # no deadline: not yet passed
        ("something-new", DUE, AFTER, False),  # an unknown visibility counts as hidden
    ],
)
def test_student_sees_details_as_visibility_allows(visibility, deadline, now, expected):
    assert details_shown(visibility, staff=False, deadline=deadline, now=now) is expected


@pytest.mark.parametrize("visibility", ["visible", "hidden", "after_deadline"])
def test_staff_always_see_details(visibility):
    assert details_shown(visibility, staff=True, deadline=DUE, now=BEFORE) is True


def test_hidden_error_shows_only_outside_facts():
    """A hidden error keeps name, status and points; the exception and prints are withheld
    and the feedback is the generic line (no exception type name)."""
    view = case_view(case("hidden"), staff=False, deadline=DUE, now=AFTER)
    assert (view.name, view.status, view.points, view.max_points) == ("c", "error", 0.0, 5.0)
    assert (view.detail, view.output, view.shown) == (None, None, False)
    assert view.feedback == HIDDEN_ERROR
    assert "ValueError" not in repr(view) and "SECRET" not in repr(view)
    assert "ValueError" not in str(view.as_json())


def test_hidden_failure_keeps_the_graders_feedback():
    view = case_view(case("hidden", CaseStatus.FAILED), staff=False, deadline=None, now=AFTER)
    assert view.feedback == "grader says" and view.output is None


def test_staff_view_has_everything():
    view = case_view(case("hidden"), staff=True, deadline=None, now=BEFORE)
    assert (view.detail, view.output) == ("ValueError: leaked 42", "SECRET-INPUT-123")
    assert view.feedback == "grader says"


def test_extension_moves_the_effective_deadline():
    """The student's effective deadline is their extension (plus grace), not the deadline."""
    policy = LatePolicy(deadline=DUE, grace=timedelta(minutes=30))
    extended = on_time_until(policy, DUE + timedelta(days=2))
    assert extended == DUE + timedelta(days=2, minutes=30)
    assert not details_shown("after_deadline", staff=False, deadline=extended, now=AFTER)
    assert on_time_until(LatePolicy()) is None


def test_notes_say_why_details_are_withheld():
    views = case_views(
        [case("visible"), case("hidden"), case("after_deadline")],
        staff=False,
        deadline=DUE,
        now=BEFORE,
    )
    notes = withheld_notes(views, DUE)
    assert notes[0] == HIDDEN_WHY
    assert "shown after your deadline, 2026-03-01 23:59 UTC" in notes[1]
    assert withheld_notes(views, None)[1].endswith("(none is set yet).")
    staff = case_views([case("hidden")], staff=True, deadline=DUE, now=BEFORE)
    assert withheld_notes(staff, DUE) == []
