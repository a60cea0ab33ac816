"""Who sees what: students only their own work (others' -> 404), staff everything; staff pages
are 403 for students, instructor pages 403 for TAs."""

from __future__ import annotations

import pytest

from webapp.extensions import db
from webapp.models import ApiToken, User


@pytest.fixture
def world(make):
    """alice and bob each submitted to 'toy'; 'draft' is unpublished."""
    people = make.people()
    toy = make.assignment("toy")
    make.assignment("draft", published=False)
    return {
        **people,
        "alice_sub": make.submission(people["alice"], toy),
        "bob_sub": make.submission(people["bob"], toy),
    }


def bearer(app, user_id: int) -> dict[str, str]:
    with app.app_context():
        _token, raw = ApiToken.issue(db.session.get_one(User, user_id), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def file_url(app, submission_id: int) -> str:
    from webapp.models import Submission

    with app.app_context():
        file_id = db.session.get_one(Submission, submission_id).files[0].id
    return f"/submissions/{submission_id}/files/{file_id}"


def test_student_sees_own_submission_not_others(client, auth, world, app):
    """Another student's submission is 404 on the page, the file download and the API."""
    auth.login("alice")
    assert client.get(f"/submissions/{world['alice_sub']}").status_code == 200
    assert client.get(f"/submissions/{world['bob_sub']}").status_code == 404
    assert client.get(f"/api/v1/submissions/{world['bob_sub']}").status_code == 404
    assert client.get(file_url(app, world["bob_sub"])).status_code == 404
    assert client.get(file_url(app, world["alice_sub"])).status_code == 200


def test_student_token_cannot_read_others(client, world, app):
    """The API with a student's token follows the same rule (404, JSON)."""
    headers = bearer(app, world["alice"])
    response = client.get(f"/api/v1/submissions/{world['bob_sub']}", headers=headers)
    assert response.status_code == 404
    assert "error" in response.get_json()
    assert (
        client.get(f"/api/v1/submissions/{world['alice_sub']}", headers=headers).status_code == 200
    )


@pytest.mark.parametrize("staff", ["tina", "ivan"])
def test_staff_see_every_submission(client, auth, world, app, staff):
    """TAs and instructors open any submission, its files and its API record."""
    auth.login(staff)
    for key in ("alice_sub", "bob_sub"):
        assert client.get(f"/submissions/{world[key]}").status_code == 200
        assert client.get(f"/api/v1/submissions/{world[key]}").status_code == 200
        assert client.get(file_url(app, world[key])).status_code == 200
    assert (
        client.get(
            f"/api/v1/submissions/{world['bob_sub']}", headers=bearer(app, world[staff])
        ).status_code
        == 200
    )


def test_student_cannot_open_staff_pages(client, auth, world):
    """Staff and instructor pages answer 403 to students; the regrade action too."""
    auth.login("alice")
    for path in ("/staff/submissions", "/instructor/assignments", "/instructor/roster"):
        assert client.get(path).status_code == 403
    assert client.post(f"/submissions/{world['alice_sub']}/regrade").status_code == 403
    assert (
        client.post("/instructor/assignments/toy/publish", data={"published": "0"}).status_code
        == 403
    )


def test_ta_cannot_open_instructor_pages(client, auth, world):
    """TAs read everything but do not manage assignments or the roster."""
    auth.login("tina")
    assert client.get("/staff/submissions").status_code == 200
    assert client.get("/instructor/assignments").status_code == 403
    assert client.get("/instructor/roster").status_code == 403


def test_unpublished_assignment_is_hidden_from_students(client, auth, world, app):
    """A draft is 404 for students (page, starter, API submit) and visible to staff."""
    auth.login("alice")
    assert client.get("/assignments/draft").status_code == 404
    assert client.get("/assignments/draft/starter.zip").status_code == 404
    assert b"draft" not in client.get("/assignments").data
    headers = bearer(app, world["alice"])
    response = client.post("/api/v1/assignments/draft/submissions", headers=headers)
    assert response.status_code == 404
    slugs = [a["slug"] for a in client.get("/api/v1/assignments", headers=headers).get_json()]
    assert slugs == ["toy"]
    auth.logout()
    auth.login("tina")
    assert client.get("/assignments/draft").status_code == 200


def test_token_of_one_user_cannot_revoke_anothers(client, auth, world, app):
    """Revoking a token that is not yours is 404 and leaves it in place."""
    bearer(app, world["bob"])
    auth.login("alice")
    assert client.post("/account/tokens/1/revoke").status_code == 404
    with app.app_context():
        assert db.session.query(ApiToken).count() == 1
