"""The JSON API: bearer tokens, the exact response shapes, JSON errors with the right codes."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from grader.job import CaseOutcome, CaseStatus, GradingResult, RunStatus
from webapp.extensions import db
from webapp.jobs import grading
from webapp.models import ApiToken, LatePolicy, User

CODE = b"def double(x):\n    return 2 * x\n"


@pytest.fixture
def alice_token(app, make) -> dict[str, str]:
    alice = make.user("alice")
    with app.app_context():
        _token, raw = ApiToken.issue(db.session.get_one(User, alice), "laptop")
        db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def post_files(client, headers, slug="toy", files=(("layers.py", CODE),)):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/api/v1/assignments/{slug}/submissions", data=data, headers=headers)


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer dlg_not-a-token"}, {"Authorization": "Basic eDp5"}]
)
def test_missing_or_bad_token_is_401(client, make, headers):
    """Without a valid bearer token every API call is 401 with a JSON error."""
    make.assignment("toy")
    for method, path in (("get", "/api/v1/assignments"), ("get", "/api/v1/submissions/1")):
        response = getattr(client, method)(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert set(response.get_json()) == {"error"}
    assert post_files(client, headers).status_code == 401


def test_assignments_lists_published_with_shape(client, make, alice_token):
    """GET /assignments: slug, title, deadline (ISO, UTC) and max_score of published ones."""
    deadline = datetime(2031, 5, 1, 23, 59, tzinfo=UTC)
    make.assignment("toy", deadline=deadline)
    make.assignment("draft", published=False)
    assert client.get("/api/v1/assignments", headers=alice_token).get_json() == [
        {
            "slug": "toy",
            "title": "Toy assignment toy",
            "deadline": "2031-05-01T23:59:00Z",
            "max_score": 10.0,
        }
    ]


def test_submit_returns_202_and_the_record(client, make, alice_token, sent_tasks):
    """POST files -> 202 {id, status: queued}; GET shows the queued submission."""
    make.assignment("toy")
    response = post_files(client, alice_token)
    assert response.status_code == 202
    body = response.get_json()
    assert body == {"id": body["id"], "status": "queued"}
    assert sent_tasks("cpu") == [("webapp.grade_submission", [body["id"]])]
    record = client.get(f"/api/v1/submissions/{body['id']}", headers=alice_token).get_json()
    assert set(record) == {
        "id", "assignment", "status", "score", "max_score", "created_at", "late", "message",
        "queue", "running_case", "cases", "withheld",
    }  # fmt: skip
    assert record["status"] == "queued" and record["score"] is None and record["cases"] == []
    assert record["running_case"] is None
    assert (record["queue"]["name"], record["queue"]["position"]) == ("cpu", 0)
    assert record["assignment"] == "toy" and record["created_at"].endswith("Z")


def test_graded_submission_shows_cases(app, client, make, alice_token):
    """After grading, the record has the score and every case in order."""
    make.assignment("toy")
    sub_id = post_files(client, alice_token).get_json()["id"]
    with app.app_context():
        claim = grading.claim_run(sub_id, worker="w1")
        grading.store_result(
            claim,
            GradingResult(
                status=RunStatus.GRADED,
                score=3.0,
                max_score=10.0,
                message="2 tests ran",
                cases=[
                    CaseOutcome("double_small", 3, 3, CaseStatus.PASSED, "ok", 0.1),
                    CaseOutcome("double_large", 0, 7, CaseStatus.FAILED, "out: max error 2.0"),
                ],
            ),
        )
    record = client.get(f"/api/v1/submissions/{sub_id}", headers=alice_token).get_json()
    assert record["status"] == "graded" and record["queue"] is None
    assert (record["score"], record["max_score"], record["message"]) == (3.0, 10.0, "2 tests ran")
    keys = ("name", "points", "max_points", "status", "feedback", "visibility")
    keys += ("details_shown", "detail", "output")
    assert record["cases"] == [
        dict(
            zip(
                keys,
                ("double_small", 3.0, 3.0, "passed", "ok", "visible", True, "", ""),
                strict=True,
            )
        ),
        dict(
            zip(
                keys,
                ("double_large", 0.0, 7.0, "failed", "out: max error 2.0", "visible", True, "", ""),
                strict=True,
            )
        ),
    ]
    assert record["withheld"] == []


def test_rejected_upload_is_400_json(app, client, make, alice_token, sent_tasks):
    """A bad upload is 400 {"error": reason} and nothing is stored or sent."""
    make.assignment("toy")
    response = post_files(client, alice_token, files=(("evil.py", CODE),))
    assert response.status_code == 400
    assert "Not part of this assignment" in response.get_json()["error"]
    assert sent_tasks() == []


def test_unknown_assignment_is_404_json(client, alice_token):
    response = post_files(client, alice_token, slug="nope")
    assert response.status_code == 404
    assert response.get_json() == {"error": "There is nothing here."}


def test_closed_deadline_is_403_json(client, make, alice_token):
    """A closed assignment past its deadline refuses API submissions with 403."""
    make.assignment("toy", deadline=datetime(2000, 1, 1, tzinfo=UTC), late_policy=LatePolicy.CLOSED)
    response = post_files(client, alice_token)
    assert response.status_code == 403
    assert "deadline" in response.get_json()["error"]


def test_too_large_is_413_json(app, client, make, alice_token):
    app.config["MAX_CONTENT_LENGTH"] = 32 * 1024
    make.assignment("toy")
    response = post_files(client, alice_token, files=(("layers.py", b"#" * 50_000),))
    assert response.status_code == 413
    assert "MiB limit" in response.get_json()["error"]


def test_session_may_read_but_not_write(client, auth, make):
    """A browser session can poll the API (GET) but cannot submit through it (no CSRF there)."""
    alice = make.user("alice")
    toy = make.assignment("toy")
    sub_id = make.submission(alice, toy)
    auth.login("alice")
    assert client.get(f"/api/v1/submissions/{sub_id}").status_code == 200
    assert post_files(client, {}).status_code == 401


def test_token_use_is_recorded(app, client, make, alice_token):
    """A token's last use is stored; the token itself is stored only as its sha256."""
    client.get("/api/v1/assignments", headers=alice_token)
    raw = alice_token["Authorization"].removeprefix("Bearer ")
    with app.app_context():
        token = db.session.query(ApiToken).one()
        assert token.last_used_at is not None
        assert raw not in (token.token_sha256, token.name)
        assert len(token.token_sha256) == 64
