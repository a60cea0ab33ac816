"""Deadlines as students and staff read them: <time> in UTC for localtime.js, the student's own
extension, what a closed or late assignment still allows instead of a useless upload form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.webapp.gradebook.gradebook_support import set_policy
from webapp.extensions import db
from webapp.models import Extension, LatePolicy

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
FILE_INPUT = re.compile(r'<input[^>]*type="file"')


def extend(app, user_id: int, assignment_id: int, due: datetime) -> None:
    with app.app_context():
        db.session.add(
            Extension(user_id=user_id, assignment_id=assignment_id, due=due, reason="ill")
        )
        db.session.commit()


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_deadline_is_a_time_element_in_utc(client, auth, make):
    """Every deadline carries its ISO UTC instant for the script, with UTC text without it."""
    make.user("alice")
    due = datetime(2030, 5, 1, 21, 30, tzinfo=UTC)
    make.assignment("toy", deadline=due)
    auth.login("alice")
    for path in ("/assignments", "/assignments/toy"):
        html = page(client, path)
        assert '<time class="local-time" datetime="2030-05-01T21:30:00Z" data-relative' in html
        assert "2030-05-01 21:30 UTC</time>" in html
    assert "localtime.js" in html
    assert "<script>" not in html  # the CSP forbids inline script


def test_list_and_page_show_the_students_extension(app, client, auth, make):
    """A student with an extension sees their own due time first, the class deadline beside it."""
    people = make.people()
    toy = make.assignment("toy", deadline=NOW - timedelta(days=1))
    extend(app, people["alice"], toy, datetime(2031, 1, 2, 3, 4, tzinfo=UTC))
    auth.login("alice")
    listing = page(client, "/assignments")
    assert 'datetime="2031-01-02T03:04:00Z"' in listing
    assert "your extension" in listing
    detail = page(client, "/assignments/toy")
    assert "Your extension" in detail and "2031-01-02 03:04 UTC" in detail
    assert FILE_INPUT.search(detail)  # still open for alice
    auth.logout()
    auth.login("bob")
    assert "your extension" not in page(client, "/assignments")


def test_closed_assignment_explains_instead_of_a_form(client, auth, make):
    """Past the deadline of a closed assignment a student gets no upload form, only what is left."""
    make.user("alice")
    make.assignment("toy", deadline=NOW - timedelta(hours=2), late_policy=LatePolicy.CLOSED)
    auth.login("alice")
    html = page(client, "/assignments/toy")
    assert not FILE_INPUT.search(html)
    assert "This assignment is closed" in html
    assert "ask the course staff for an extension" in html
    assert 'data-past="closed"' in html


def test_staff_keep_the_form_after_the_deadline(client, auth, make):
    """Staff may submit after the deadline: they keep the form, with a note it is closed."""
    make.people()
    make.assignment("toy", deadline=NOW - timedelta(hours=2), late_policy=LatePolicy.CLOSED)
    auth.login("tina")
    html = page(client, "/assignments/toy")
    assert FILE_INPUT.search(html)
    assert "Closed for students" in html


def test_late_window_states_the_penalty(app, client, auth, make):
    """During an open late window the form stays, with the penalty a submission now would get."""
    make.user("alice")
    toy = make.assignment("toy", deadline=NOW - timedelta(hours=30))
    set_policy(app, toy, penalty=0.1)
    auth.login("alice")
    html = page(client, "/assignments/toy")
    assert FILE_INPUT.search(html)
    assert "2 days late" in html
    assert "loses 20% of its score (10% per started day late)" in html


def test_extension_reopens_a_closed_assignment(app, client, auth, make):
    """A closed assignment is open again for the student whose extension runs."""
    people = make.people()
    toy = make.assignment("toy", deadline=NOW - timedelta(hours=2), late_policy=LatePolicy.CLOSED)
    extend(app, people["alice"], toy, NOW + timedelta(days=2))
    auth.login("alice")
    assert FILE_INPUT.search(page(client, "/assignments/toy"))
    auth.logout()
    auth.login("bob")
    assert not FILE_INPUT.search(page(client, "/assignments/toy"))
