"""Submission limits: a student may have MAX_WAITING_SUBMISSIONS of one assignment waiting to
be graded and SUBMISSIONS_PER_HOUR an hour; past either the upload is refused with 429 and a
message, and nothing is stored. Regrades do not count against the student; staff are free."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.models import ApiToken, GradingRun, Role, RunState, Submission, User, utcnow
from webapp.submitting import queue_regrade

CODE = b"def double(x):\n    return 2 * x\n"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAX_WAITING_SUBMISSIONS": 2, "SUBMISSIONS_PER_HOUR": 4}


@pytest.fixture
def alice(app, make, auth) -> int:
    user_id = make.user("alice")
    make.assignment("toy")
    auth.login("alice")
    return user_id


def upload(client, slug: str = "toy", headers=None, api: bool = False):
    data = {"files": [(io.BytesIO(CODE), "layers.py")]}
    url = f"/api/v1/assignments/{slug}/submissions" if api else f"/assignments/{slug}/submissions"
    return client.post(url, data=data, headers=headers or {})


def submissions_of(app, user_id: int) -> list[int]:
    with app.app_context():
        query = select(Submission.id).where(Submission.user_id == user_id).order_by(Submission.id)
        return list(db.session.scalars(query))


def finish_runs(app, status: RunState = RunState.GRADED) -> None:
    with app.app_context():
        values = {"status": status, "finished_at": utcnow()}
        if status is RunState.GRADED:
            values |= {"score": 1.0, "max_score": 1.0}
        db.session.execute(update(GradingRun).values(**values))
        db.session.commit()


def test_a_third_waiting_submission_is_refused_until_one_is_graded(app, client, alice):
    assert [upload(client).status_code for _ in range(2)] == [302, 302]
    refused = upload(client)
    assert refused.status_code == 429
    assert b"2 submissions of Toy assignment toy still waiting to be graded" in refused.data
    assert len(submissions_of(app, alice)) == 2  # nothing stored
    finish_runs(app, RunState.FAILED)  # a failed run is finished too
    assert upload(client).status_code == 302
    assert len(submissions_of(app, alice)) == 3


def test_the_api_refuses_with_429_and_a_json_error(app, client, alice):
    with app.app_context():
        _token, raw = ApiToken.issue(db.session.get_one(User, alice), "laptop")
        db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    assert [upload(client, headers=headers, api=True).status_code for _ in range(2)] == [202, 202]
    refused = upload(client, headers=headers, api=True)
    assert refused.status_code == 429
    assert "still waiting to be graded" in refused.get_json()["error"]


def test_regrades_do_not_count_as_waiting(app, client, alice):
    """A graded submission with a queued regrade run is not one the student is waiting on."""
    assert [upload(client).status_code for _ in range(2)] == [302, 302]
    finish_runs(app)
    with app.app_context():
        for submission in db.session.scalars(select(Submission)):
            assert queue_regrade(submission, submission.assignment.current_suite) is not None
        db.session.commit()
    assert upload(client).status_code == 302


def test_hourly_limit_counts_only_the_last_hour(app, client, alice):
    for _ in range(4):
        assert upload(client).status_code == 302
        finish_runs(app)
    refused = upload(client)
    assert refused.status_code == 429
    assert b"submitted Toy assignment toy 4 times in the last hour" in refused.data
    with app.app_context():
        earlier = utcnow() - timedelta(hours=1, minutes=1)
        first = db.session.scalar(select(func.min(Submission.id)))
        db.session.execute(
            update(Submission).where(Submission.id == first).values(created_at=earlier)
        )
        db.session.commit()
    assert upload(client).status_code == 302


def test_limits_are_per_assignment_and_staff_are_not_limited(app, client, make, auth, alice):
    make.assignment("other", package=make.package(slug="other"))
    assert [upload(client).status_code for _ in range(2)] == [302, 302]
    assert upload(client, "other").status_code == 302
    make.user("tia", Role.TA)
    auth.logout()
    auth.login("tia")
    assert [upload(client).status_code for _ in range(3)] == [302, 302, 302]


def test_the_assignment_page_states_the_limits_to_students_only(app, client, make, auth, alice):
    html = client.get("/assignments/toy").get_data(as_text=True)
    assert "At most 2 waiting to be graded at once and 4 an hour." in html
    make.user("tia", Role.TA)
    auth.logout()
    auth.login("tia")
    assert "waiting to be graded at once" not in client.get("/assignments/toy").get_data(True)
