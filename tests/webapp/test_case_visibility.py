"""Hidden means hidden on the submission page and the API: a hidden case's prints and
exception text never reach the student; after-deadline cases open at the student's own
deadline (extension included); staff see everything, the sandbox log too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from grader.job import CaseOutcome, CaseStatus, GradingResult, RunStatus
from webapp.extensions import db
from webapp.jobs import grading
from webapp.models import Extension, utcnow

# What the student's code chose to print or raise, per case: never shown when withheld.
HIDDEN_SECRETS = ("SECRET-INPUT-123", "ValueError", "leaked 42", "hidden_case.py")
AFTER_SECRETS = ("AFTER-PRINT-77", "AFTER-RAISE-88")
VISIBLE_WORDS = ("VISIBLE-PRINT-55", "KeyError: visible-boom")
SANDBOX_LOG = "harness: SANDBOX-LOG-99"


def cases() -> list[CaseOutcome]:
    return [
        CaseOutcome(
            "visible_case", 0, 2, CaseStatus.ERROR, "raised", 0.1,
            detail="KeyError: visible-boom", output="VISIBLE-PRINT-55\n", visibility="visible",
        ),
        CaseOutcome(
            "hidden_case", 0, 5, CaseStatus.ERROR, "", 0.1,
            detail='ValueError: leaked 42\n  File "hidden_case.py", line 3',
            output="SECRET-INPUT-123\n", visibility="hidden",
        ),
        CaseOutcome(
            "hidden_wrong", 0, 1, CaseStatus.FAILED, "out: max error 0.5", 0.1,
            output="SECRET-INPUT-123 again", visibility="hidden",
        ),
        CaseOutcome(
            "after_case", 0, 3, CaseStatus.FAILED, "out: max error 2.0", 0.1,
            detail="AFTER-RAISE-88", output="AFTER-PRINT-77\n", visibility="after_deadline",
        ),
    ]  # fmt: skip


def graded(app, make, deadline_in: timedelta | None, extension_in: timedelta | None = None):
    """alice's graded submission of an assignment due `deadline_in` from now (None: no
    deadline), with an extension to `extension_in` from now if given; its id."""
    ids = make.people()
    now = utcnow()
    deadline = None if deadline_in is None else now + deadline_in
    assignment_id = make.assignment("toy", deadline=deadline)
    sub_id = make.submission(ids["alice"], assignment_id)
    with app.app_context():
        if extension_in is not None:
            db.session.add(
                Extension(
                    assignment_id=assignment_id, user_id=ids["alice"], due=now + extension_in,
                    reason="illness", granted_by_id=ids["tina"],
                )
            )  # fmt: skip
            db.session.commit()
        claim = grading.claim_run(sub_id, worker="w1")
        result = GradingResult(RunStatus.GRADED, 0.0, 11.0, cases(), "4 tests ran", SANDBOX_LOG)
        assert grading.store_result(claim, result)
    return sub_id


def views(client, auth, user: str, sub_id: int) -> tuple[str, str]:
    """(page HTML, API JSON text) of the submission as `user` sees them."""
    auth.login(user)
    html = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    api = client.get(f"/api/v1/submissions/{sub_id}").get_data(as_text=True)
    auth.logout()
    return html, api


def assert_hidden_withheld(*texts: str) -> None:
    for text in texts:
        for secret in (*HIDDEN_SECRETS, SANDBOX_LOG):
            assert secret not in text, secret


def test_student_before_deadline_sees_visible_details_only(app, client, auth, make):
    sub_id = graded(app, make, deadline_in=timedelta(days=1))
    html, api = views(client, auth, "alice", sub_id)
    assert_hidden_withheld(html, api)
    for secret in AFTER_SECRETS:
        assert secret not in html and secret not in api
    for word in VISIBLE_WORDS:
        assert word in html and word in api
    for text in (html, api):
        assert "your code raised an exception (details are hidden" in text.lower()
        assert "out: max error 0.5" in text  # the grader's own feedback is always shown
        assert "shown to staff only, so the hidden tests stay a fair test" in text
        assert "shown after your deadline" in text


def test_student_after_deadline_sees_after_deadline_details(app, client, auth, make):
    sub_id = graded(app, make, deadline_in=-timedelta(hours=1))
    html, api = views(client, auth, "alice", sub_id)
    assert_hidden_withheld(html, api)
    for word in (*AFTER_SECRETS, *VISIBLE_WORDS):
        assert word in html and word in api
    assert "shown after your deadline" not in html


def test_extension_keeps_after_deadline_details_closed(app, client, auth, make):
    """The deadline has passed, but alice's extension has not: still withheld for her."""
    sub_id = graded(app, make, deadline_in=-timedelta(hours=1), extension_in=timedelta(days=1))
    html, api = views(client, auth, "alice", sub_id)
    assert_hidden_withheld(html, api)
    for secret in AFTER_SECRETS:
        assert secret not in html and secret not in api
    assert "shown after your deadline" in html


def test_no_deadline_keeps_after_deadline_details_closed(app, client, auth, make):
    sub_id = graded(app, make, deadline_in=None)
    html, api = views(client, auth, "alice", sub_id)
    for secret in AFTER_SECRETS:
        assert secret not in html and secret not in api


@pytest.mark.parametrize("staff", ["tina", "ivan"])
def test_staff_see_everything_before_the_deadline(app, client, auth, make, staff):
    sub_id = graded(app, make, deadline_in=timedelta(days=1))
    html, api = views(client, auth, staff, sub_id)
    for word in (*HIDDEN_SECRETS, *AFTER_SECRETS, *VISIBLE_WORDS):
        assert word in html and word in api
    assert SANDBOX_LOG in html
    assert "shown to staff only" not in html


def test_api_marks_withheld_details_as_null(app, client, auth, make):
    sub_id = graded(app, make, deadline_in=timedelta(days=1))
    auth.login("alice")
    record = client.get(f"/api/v1/submissions/{sub_id}").get_json()
    hidden = next(c for c in record["cases"] if c["name"] == "hidden_case")
    assert hidden == {
        "name": "hidden_case", "points": 0.0, "max_points": 5.0, "status": "error",
        "feedback": "Your code raised an exception (details are hidden for this case).",
        "visibility": "hidden", "details_shown": False, "detail": None, "output": None,
    }  # fmt: skip
    assert len(record["withheld"]) == 2
