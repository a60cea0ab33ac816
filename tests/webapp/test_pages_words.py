"""The words and one-click fixes of issue 11: the extension picker, a confirmed unpublish, the
not-in-gradebook warning, a self-check for synced versions, sizes, plurals, titles not slugs,
"their" for staff, and a failed latest run beside an earlier score."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from sqlalchemy import select

from tests.webapp.gradebook.gradebook_support import build_scheme, submission_at
from webapp.extensions import db
from webapp.models import (
    Assignment,
    GradeItem,
    GradingRun,
    RunState,
    SelfCheckStatus,
    Submission,
)

DUE = datetime(2031, 3, 1, 23, 59, tzinfo=UTC)


def text(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_extension_student_is_picked_from_the_roster(client, auth, make):
    """The extensions form offers a <select> of students by name and username, no free text."""
    make.people()
    make.assignment("toy", deadline=DUE)
    auth.login("tina")
    html = text(client, "/gradebook/extensions")
    assert '<select id="student" name="student" required>' in html
    assert '<option value="alice">Alice (alice)</option>' in html
    assert 'value="tina"' not in html  # staff get no extensions
    assert not re.search(r'<input[^>]*name="student"', html)


def test_extension_grant_names_the_assignment_by_title(client, auth, make):
    """The confirmation reads the assignment's title and the student's name."""
    make.people()
    make.assignment("toy", deadline=DUE)
    auth.login("tina")
    data = {"student": "alice", "assignment": "toy", "due": "2031-03-04T10:00", "reason": "ill"}
    html = client.post("/gradebook/extensions", data=data, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Alice (alice) has until 2031-03-04 10:00 UTC on Toy assignment toy." in html


def test_extensions_say_why_nothing_can_be_chosen(client, auth, make):
    """With no deadline anywhere, the page says to set one first and links to where."""
    make.people()
    make.assignment("toy")
    auth.login("ivan")
    html = text(client, "/gradebook/extensions")
    assert "set a deadline on an assignment first" in html
    assert 'href="/instructor/assignments"' in html
    assert 'name="student"' not in html


def test_unpublish_needs_a_second_step(app, client, auth, make):
    """The list only links to a confirmation page; its danger button unpublishes."""
    make.people()
    make.assignment("toy")
    auth.login("ivan")
    listing = text(client, "/instructor/assignments")
    assert 'name="published" value="0"' not in listing
    assert 'class="button danger" href="/instructor/assignments/toy/unpublish"' in listing
    confirm = text(client, "/instructor/assignments/toy/unpublish")
    assert "Students will no longer see this assignment" in confirm
    assert 'name="published" value="0"' in confirm and 'class="danger"' in confirm
    with app.app_context():
        assert Assignment.by_slug("toy").published  # opening the page changed nothing
    client.post("/instructor/assignments/toy/publish", data={"published": "0"})
    with app.app_context():
        assert not Assignment.by_slug("toy").published


def test_published_assignment_missing_from_gradebook_is_flagged_and_fixed(app, client, auth, make):
    """A published assignment in no category gets a warning and a one-click fix."""
    make.people()
    listed = make.assignment("listed")
    make.assignment("toy")
    build_scheme(app, [listed])
    auth.login("ivan")
    listing = text(client, "/instructor/assignments")
    assert listing.count("Not in the gradebook") == 1
    assert 'action="/instructor/assignments/toy/gradebook"' in listing
    client.post("/instructor/assignments/toy/gradebook")
    with app.app_context():
        item = db.session.scalar(select(GradeItem).where(GradeItem.key == "toy"))
        assert item.category.name == "Programming" and item.assignment.slug == "toy"
    assert "Not in the gradebook" not in text(client, "/instructor/assignments")


def test_gradebook_fix_creates_the_scheme_when_there_is_none(app, client, auth, make):
    """With no course scheme yet the fix seeds it, as `flask gradebook seed` does."""
    make.people()
    make.assignment("toy")
    auth.login("ivan")
    client.post("/instructor/assignments/toy/gradebook")
    with app.app_context():
        assert db.session.scalar(select(GradeItem).where(GradeItem.key == "toy")) is not None


def test_unchecked_version_has_a_run_selfcheck_button(app, client, auth, make, sent_tasks):
    """A version loaded by sync (unchecked) can be self-checked from the list in one click."""
    make.people()
    make.assignment("toy")
    auth.login("ivan")
    with app.app_context():
        suite_id = Assignment.by_slug("toy").current_suite_id
    listing = text(client, "/instructor/assignments")
    assert f'action="/instructor/suites/{suite_id}/selfcheck"' in listing
    assert "Run self-check" in listing
    sent_tasks()
    client.post(f"/instructor/suites/{suite_id}/selfcheck")
    with app.app_context():
        status = Assignment.by_slug("toy").current_suite.selfcheck_status
    assert status is SelfCheckStatus.QUEUED
    assert "Run self-check" not in text(client, "/instructor/assignments")


def test_deadline_form_shows_late_rules_beside_it(client, auth, make):
    """The deadline cell states the late rules, and its one form sets them all: deadline,
    late work accepted or refused, grace and penalty, each with a visible label."""
    make.people()
    make.assignment("toy", deadline=DUE)
    auth.login("ivan")
    html = text(client, "/instructor/assignments")
    assert "Late submissions are accepted without penalty" in html
    form = re.search(
        r'<form[^>]*action="/instructor/assignments/toy/deadline".*?</form>', html, re.S
    )
    for field, label in (
        ("deadline", "Deadline (UTC)"),
        ("late", "After it"),
        ("grace", "Grace (min)"),
        ("penalty", "Penalty/day (%)"),
    ):
        assert f'<label for="{field}-toy">{label}' in form.group(0)
        assert f'id="{field}-toy"' in form.group(0)


def test_too_large_upload_names_the_assignments_file_limit(app, client, auth, make):
    """A 413 on an assignment's upload states its per-file limit in KiB, as its page does."""
    make.user("alice")
    make.assignment("toy")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    auth.login("alice")
    data = {"files": [(io.BytesIO(b"#" * 100_000), "layers.py")]}
    response = client.post("/assignments/toy/submissions", data=data)
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "Toy assignment toy takes files of at most 4 KiB each" in html
    assert "4 KiB each" in text(client, "/assignments/toy")  # the page says the same
    assert "KB" not in html


def test_counts_are_singular_or_plural(app, client, auth, make):
    """One submission is 'one submission' and '1 regrade', not '1 submissions'."""
    ids = make.people()
    toy = make.assignment("toy")
    submission_at(app, ids["alice"], toy, DUE, 5.0)
    auth.login("ivan")
    assert "Regrade the one submission with v1" in text(
        client, "/instructor/assignments/toy/suites"
    )
    html = client.post("/instructor/assignments/toy/regrade", follow_redirects=True).get_data(
        as_text=True
    )
    assert "Queued 1 regrade with suite v1." in html and "(s)" not in html


def test_throttle_message_names_the_assignment_by_title(app, client, auth, make):
    """A student refused for too many waiting submissions reads the title, in singular."""
    ids = make.people()
    toy = make.assignment("toy")
    make.submission(ids["alice"], toy)
    app.config["MAX_WAITING_SUBMISSIONS"] = 1
    auth.login("alice")
    data = {"files": [(io.BytesIO(b"def double(x):\n    return 2 * x\n"), "layers.py")]}
    refused = client.post("/assignments/toy/submissions", data=data)
    assert refused.status_code == 429
    assert b"You have 1 submission of Toy assignment toy still waiting" in refused.data


def test_staff_read_their_not_your_on_a_students_grades(app, client, auth, make):
    """A TA reading a student's grades sees "their best 3 of 4"; the student sees "your"."""
    make.people()
    ids = [make.assignment(f"a{i}", deadline=DUE) for i in range(1, 5)]
    build_scheme(app, ids)
    auth.login("tina")
    staff_view = text(client, "/gradebook/students/alice")
    assert "their best 3 of 4 count" in staff_view and "your best" not in staff_view
    auth.logout()
    auth.login("alice")
    assert "your best 3 of 4 count" in text(client, "/grades")


def test_failed_latest_run_says_the_score_is_an_earlier_runs(app, client, auth, make):
    """Beside a failed latest run the list says the score shown comes from an earlier run."""
    ids = make.people()
    toy = make.assignment("toy")
    sub = submission_at(app, ids["alice"], toy, DUE, 10.0)
    with app.app_context():
        submission = db.session.get_one(Submission, sub)
        failed = GradingRun(suite_id=submission.assignment.current_suite_id)
        failed.status, failed.message = RunState.FAILED, "worker lost"
        submission.runs.append(failed)
        db.session.commit()
    auth.login("alice")
    html = text(client, "/submissions")
    assert "10 / 10" in html
    assert "latest run failed; this is the score of an earlier run" in html
