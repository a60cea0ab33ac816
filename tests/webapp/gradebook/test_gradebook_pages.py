"""The gradebook pages and API: who may open what, what the staff table and a student's own
page show, sorting and filtering, and the API's exact shape."""

from __future__ import annotations

import re

import pytest

from tests.webapp.gradebook.gradebook_support import ALICE_TOTAL, set_policy, worked_example
from webapp.extensions import db
from webapp.models import ActiveSubmission, ApiToken, User

STAFF_PAGES = (
    "/gradebook",
    "/gradebook/export.csv",
    "/gradebook/import",
    "/gradebook/extensions",
    "/gradebook/items/written1/scores",
    "/gradebook/students/alice",
)
INSTRUCTOR_PAGES = ("/gradebook/scheme",)


@pytest.fixture
def ids(app, make):
    return worked_example(app, make)


def bearer(app, username: str) -> dict[str, str]:
    with app.app_context():
        _token, raw = ApiToken.issue(User.by_username(username), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_students_get_403_on_every_staff_page_and_the_api(app, client, auth, ids):
    """A student opens none of the staff gradebook pages, nor the API (session or token)."""
    auth.login("alice")
    for path in STAFF_PAGES + INSTRUCTOR_PAGES:
        assert client.get(path).status_code == 403, path
    assert client.get("/api/v1/gradebook").status_code == 403
    response = client.get("/api/v1/gradebook", headers=bearer(app, "alice"))
    assert response.status_code == 403 and "error" in response.get_json()
    assert client.post("/gradebook/items/written1/scores", data={}).status_code == 403


def test_ta_reads_enters_and_exports_but_cannot_change_rules(client, auth, ids):
    """TAs open every staff page; the course-rule pages and actions are 403 for them."""
    auth.login("tina")
    for path in STAFF_PAGES:
        assert client.get(path).status_code == 200, path
    assert client.get("/gradebook/scheme").status_code == 403
    for path in ("categories", "items", "items/new", "assignments/a1/policy"):
        assert client.post(f"/gradebook/scheme/{path}", data={}).status_code == 403, path
    assert b"Course rules" not in client.get("/gradebook").data


def test_instructor_opens_the_rules(client, auth, ids):
    auth.login("ivan")
    html = client.get("/gradebook/scheme").get_data(as_text=True)
    assert "Written exams" in html and 'name="weight-' in html


def test_gradebook_table_links_counted_submissions_and_marks_dropped(client, auth, ids):
    """Each autograded cell links to its counted submission; dropped items are marked;
    per-item statistics and an SVG histogram per item are on the page."""
    auth.login("tina")
    html = client.get("/gradebook").get_data(as_text=True)
    assert f'href="/submissions/{ids["a1_last"]}">6</a>' in html
    assert f'href="/submissions/{ids["a2_late"]}">8</a><abbr title="late: -20%">*</abbr>' in html
    assert re.search(rf'class="num dropped"><a href="/submissions/{ids["a4_sub"]}">5</a>', html)
    assert html.count("(dropped)</span>") == 2 + 2  # alice: a4, written2; bob: a4, written4
    assert "73.5%" in html and "10.0%" in html
    assert html.count("<svg") == 10  # one histogram per item
    assert "<script" not in html


def test_sorting_and_filtering_are_server_side(client, auth, ids, make):
    """?sort=total&dir=desc puts the best first; ?q= and ?missing= narrow the rows."""
    make.user("zed")
    auth.login("ivan")

    def order(query: str) -> list[str]:
        html = client.get(f"/gradebook?{query}").get_data(as_text=True)
        return re.findall(r'<th scope="row"><a href="/gradebook/students/(\w+)"', html)

    assert order("") == ["alice", "bob", "zed"]
    assert order("sort=total&dir=desc") == ["alice", "bob", "zed"]
    assert order("sort=total&dir=asc") == ["zed", "bob", "alice"]
    assert order("sort=item:final&dir=desc") == ["alice", "bob", "zed"]  # missing last
    assert order("sort=item:final&dir=asc") == ["bob", "alice", "zed"]
    assert order("q=BO") == ["bob"]
    assert order("missing=final") == ["zed"]
    assert order("sort=nonsense") == ["alice", "bob", "zed"]


def test_student_page_shows_own_grades_with_explanations(client, auth, ids):
    """alice sees her items, how each score was chosen, penalties, drops and her total;
    nothing of bob's."""
    auth.login("alice")
    html = client.get("/grades").get_data(as_text=True)
    assert "My grades" in html and f"{ALICE_TOTAL:.1f}%" in html
    assert "the last on-time submission" in html
    assert "2 days late: -20%" in html and "Late penalty: -20%." in html
    assert html.count('badge-dropped">dropped') == 2
    assert "Not entered yet (counts 0)." in html  # written2
    assert 'Your extension: due <time class="local-time" datetime="2026-03-04T23:59:00Z"' in html
    assert "bob" not in html.lower()


def test_staff_see_one_students_breakdown(client, auth, ids):
    auth.login("tina")
    html = client.get("/gradebook/students/alice").get_data(as_text=True)
    assert "Grades of Alice" in html and "73.5%" in html
    assert client.get("/gradebook/students/tina").status_code == 404


def test_student_chooses_the_counted_submission(app, client, auth, ids):
    """With rule "active", a student's own graded submission can be chosen and then counts;
    another student's is 404 and nothing changes under another rule."""
    auth.login("alice")
    refused = client.post(f"/grades/activate/{ids['a1_first']}", follow_redirects=True)
    assert b"Not changed" in refused.data
    set_policy(app, ids["a1"], rule="active")
    html = client.get("/grades").get_data(as_text=True)
    assert "Count this one" in html
    client.post(f"/grades/activate/{ids['a1_first']}")
    html = client.get("/grades").get_data(as_text=True)
    assert f"submission_id={ids['a1_first']}" not in html  # urls are paths, not queries
    assert f'href="/submissions/{ids["a1_first"]}">8</a> / 10' in html
    assert "the submission chosen to count" in html
    auth.logout()
    auth.login("bob")
    assert client.post(f"/grades/activate/{ids['a1_last']}").status_code == 404
    with app.app_context():
        chosen = db.session.scalars(db.select(ActiveSubmission.submission_id)).all()
    assert chosen == [ids["a1_first"]]


def test_api_gradebook_shape(app, client, ids):
    """GET /api/v1/gradebook: students -> username, items by key, categories, total."""
    body = client.get("/api/v1/gradebook", headers=bearer(app, "tina")).get_json()
    assert [s["username"] for s in body["students"]] == ["alice", "bob"]
    alice = body["students"][0]
    assert set(alice) == {"username", "items", "categories", "total", "failed_runs"}
    assert alice["items"] == {
        "a1": 6.0, "a2": 8.0, "a3": 9.0, "a4": 5.0,
        "written1": 15.0, "written2": None, "written3": 18.0, "written4": 10.0,
        "project": 80.0, "final": 65.0,
    }  # fmt: skip
    assert alice["categories"] == {
        "Programming": pytest.approx(76.6667),
        "Written exams": pytest.approx(71.6667),
        "Project": 80.0,
        "Final": 65.0,
    }
    assert alice["total"] == pytest.approx(73.5)
    assert body["students"][1]["total"] == pytest.approx(10.0)


def test_api_requires_a_token(client, ids):
    assert client.get("/api/v1/gradebook").status_code == 401
