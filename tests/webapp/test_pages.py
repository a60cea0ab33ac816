"""The pages: what each role sees, escaping of everything a student or author wrote,
downloads as attachments, instructor actions, staff filters, error pages."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

from grader.job import CaseOutcome, CaseStatus, GradingResult, RunStatus
from tests.webapp.gradebook.gradebook_support import set_policy
from webapp.extensions import db
from webapp.gradebook.service import rules_of
from webapp.jobs import grading
from webapp.models import (
    Assignment,
    Extension,
    LatePolicy,
    Role,
    SelfCheckStatus,
    Submission,
)

XSS = "<script>alert(1)</script>"


def grade(
    app, sub_id: int, score: float = 3.0, log: str = "", feedback: str = "", output: str = ""
) -> None:
    with app.app_context():
        claim = grading.claim_run(sub_id, worker="w1")
        case = CaseOutcome("double_small", score, 10, CaseStatus.FAILED, feedback, output=output)
        result = GradingResult(
            status=RunStatus.GRADED, score=score, max_score=10.0, log=log, cases=[case]
        )
        grading.store_result(claim, result)


def test_nav_depends_on_role(client, auth, make):
    """Students see no staff links; TAs see the staff list; instructors also manage."""
    make.people()
    expectations = {
        "alice": (False, False),
        "tina": (True, False),
        "ivan": (True, True),
    }
    for name, (staff, instructor) in expectations.items():
        auth.login(name)
        html = client.get("/assignments").data
        assert (b"All submissions" in html) is staff
        assert (b"Manage assignments" in html) is instructor
        auth.logout()


def test_assignment_page_escapes_the_handout(client, auth, make):
    """The handout renders as Markdown with every tag from the author escaped (its headings
    one level down: the page has one H1)."""
    make.user("alice")
    make.assignment("toy", package=make.package(handout=f"# Part 1 {XSS}\n\nUse `np.dot`.\n"))
    auth.login("alice")
    html = client.get("/assignments/toy").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "<h2>Part 1 &lt;script&gt;alert(1)&lt;/script&gt;</h2>" in html
    assert "<code>np.dot</code>" in html
    assert 'enctype="multipart/form-data"' in html


def test_starter_download(client, auth, make):
    """The starter zip holds the handout, the starter files and the public tests, not the
    solution or hidden cases."""
    make.user("alice")
    make.assignment("toy")
    auth.login("alice")
    response = client.get("/assignments/toy/starter.zip")
    assert response.headers["Content-Disposition"].startswith("attachment")
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert sorted(names) == ["toy/README.md", "toy/layers.py", "toy/public_tests/test_public.py"]


def test_submission_page_shows_result_escaped(app, client, auth, make):
    """Score, cases, feedback and a visible case's prints are shown, script in any of them
    stays text, and the sandbox log is not shown to the student."""
    alice = make.user("alice")
    sub_id = make.submission(alice, make.assignment("toy"))
    auth.login("alice")
    html = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert "queued" in html and "submission.js" in html  # live polling while not final
    grade(
        app, sub_id, log="harness: SANDBOX-LOG", feedback=f"expected {XSS}", output=f"print {XSS}"
    )
    html = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert "<strong>3 / 10</strong>" in html
    assert "double_small" in html
    assert XSS not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    assert "SANDBOX-LOG" not in html
    assert "submission.js" not in html


def test_file_download_is_an_attachment(app, client, auth, make):
    """Submitted files download as attachments with nosniff (never rendered as HTML)."""
    alice = make.user("alice")
    sub_id = make.submission(alice, make.assignment("toy"), content=XSS.encode())
    with app.app_context():
        file_id = db.session.get_one(Submission, sub_id).files[0].id
    auth.login("alice")
    response = client.get(f"/submissions/{sub_id}/files/{file_id}")
    assert response.headers["Content-Disposition"] == "attachment; filename=layers.py"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/octet-stream"
    assert response.data == XSS.encode()


def test_security_headers_on_pages(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_my_submissions_lists_only_mine(client, auth, make):
    people = make.people()
    toy = make.assignment("toy")
    mine = make.submission(people["alice"], toy)
    theirs = make.submission(people["bob"], toy)
    auth.login("alice")
    html = client.get("/submissions").get_data(as_text=True)
    assert f"/submissions/{mine}" in html and f"/submissions/{theirs}" not in html


def test_staff_list_filters(app, client, auth, make):
    """Staff filter all submissions by assignment, student and latest status."""
    people = make.people()
    toy, other = make.assignment("toy"), make.assignment("other")
    a1 = make.submission(people["alice"], toy)
    b1 = make.submission(people["bob"], toy)
    a2 = make.submission(people["alice"], other)
    grade(app, b1)
    auth.login("tina")

    def listed(query: str) -> set[int]:
        html = client.get(f"/staff/submissions?{query}").get_data(as_text=True)
        return {s for s in (a1, b1, a2) if f'href="/submissions/{s}"' in html}

    assert listed("") == {a1, b1, a2}
    assert listed("assignment=toy") == {a1, b1}
    assert listed("student=alice") == {a1, a2}
    assert listed("status=graded") == {b1}
    assert listed("status=queued&student=alice&assignment=other") == {a2}


def test_instructor_publishes_and_sets_deadline(app, client, auth, make):
    """Publish/unpublish and deadline editing change the assignment for students."""
    make.people()
    make.assignment("toy", published=False)
    with app.app_context():  # publishing needs a passed self-check (tests/webapp/test_authoring)
        Assignment.by_slug("toy").current_suite.selfcheck_status = SelfCheckStatus.PASSED
        db.session.commit()
    auth.login("ivan")
    assert b"Publish" in client.get("/instructor/assignments").data
    client.post("/instructor/assignments/toy/publish", data={"published": "1"})
    client.post(
        "/instructor/assignments/toy/deadline",
        data={"deadline": "2031-03-04T05:06", "late_policy": "closed"},
    )
    with app.app_context():
        assignment = Assignment.by_slug("toy")
        assert assignment.published is True
        assert assignment.deadline == datetime(2031, 3, 4, 5, 6, tzinfo=UTC)
        assert assignment.late_policy is LatePolicy.CLOSED
    client.post(
        "/instructor/assignments/toy/deadline", data={"deadline": "", "late_policy": "open"}
    )
    client.post("/instructor/assignments/toy/publish", data={"published": "0"})
    with app.app_context():
        assignment = Assignment.by_slug("toy")
        assert (assignment.published, assignment.deadline) == (False, None)


def test_token_page_shows_new_token_once(app, client, auth, make):
    """A token made on the account page is shown in that response only and works."""
    make.user("alice", Role.STUDENT)
    auth.login("alice")
    html = client.post("/account/tokens", data={"name": "laptop"}).get_data(as_text=True)
    raw = html.split('<code class="token">')[1].split("</code>")[0]
    assert raw not in client.get("/account/tokens").get_data(as_text=True)
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/assignments", headers=headers).status_code == 200


def test_error_pages_are_html(client, auth, make):
    make.user("alice")
    auth.login("alice")
    response = client.get("/submissions/999")
    assert response.status_code == 404
    assert b"404 \xc2\xb7 Not Found" in response.data


def test_assignment_page_states_the_late_rules_and_the_students_extension(app, client, auth, make):
    """Deadline, grace, penalty and this student's own extension are on the page (not others')."""
    alice = make.user("alice")
    make.user("bob")
    tina = make.user("tina", Role.TA)
    due = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
    assignment_id = make.assignment("toy", deadline=due)
    set_policy(app, assignment_id, grace=10, penalty=0.25)
    with app.app_context():
        extension = Extension(
            assignment_id=assignment_id,
            user_id=alice,
            due=due + timedelta(days=2),
            reason="illness",
            granted_by_id=tina,
        )
        db.session.add(extension)
        db.session.commit()
    auth.login("alice")
    html = client.get("/assignments/toy").get_data(as_text=True)
    assert "2026-12-01 23:59 UTC</time>. A grace period of 10 minutes counts as on time. " in html
    assert "After that, 25% is taken off the score per started day late." in html
    assert 'Due <time class="local-time" datetime="2026-12-03T23:59:00Z"' in html
    assert "2026-12-03 23:59 UTC</time> for you." in html
    assert "<code>layers.ipynb</code> may stand for a" in html
    auth.logout()
    auth.login("bob")
    html = client.get("/assignments/toy").get_data(as_text=True)
    assert "per started day late" in html and "for you." not in html


def test_the_deadline_and_every_late_rule_are_saved_by_one_form(app, client, auth, make):
    """Deadline, late policy, grace and penalty in one POST; a bad penalty saves nothing;
    a form without grace and penalty leaves them as they were."""
    make.people()
    make.assignment("toy")
    auth.login("ivan")
    page = client.get("/instructor/assignments").get_data(as_text=True)
    assert 'id="grace-toy"' in page and 'id="penalty-toy"' in page
    url = "/instructor/assignments/toy/deadline"
    form = {"deadline": "2031-03-04T05:06", "late_policy": "open", "grace_minutes": "15"}
    saved = client.post(url, data={**form, "penalty_percent": "12.5"}, follow_redirects=True)
    assert "deadline and late rules saved" in saved.get_data(as_text=True)
    refused = client.post(
        url, data={**form, "grace_minutes": "1", "penalty_percent": "250"}, follow_redirects=True
    )
    assert "nothing was saved. The penalty per day must be 0-100%." in refused.get_data(
        as_text=True
    )
    client.post(url, data={"deadline": "2031-03-05T05:06", "late_policy": "closed"})
    with app.app_context():
        assignment = Assignment.by_slug("toy")
        late = rules_of(assignment).late
        assert assignment.deadline == datetime(2031, 3, 5, 5, 6, tzinfo=UTC)
        assert assignment.late_policy is LatePolicy.CLOSED
        assert (late.grace, late.penalty_per_day) == (timedelta(minutes=15), 0.125)
