"""Submitting on the web page: stored in one transaction, enqueued after commit on the right
queue; a refused upload stores nothing and says why."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import GradingRun, LatePolicy, Role, RunState, Submission, SubmissionFile

CODE = b"def double(x):\n    return 2 * x\n"


def upload(client, slug: str = "toy", files=(("layers.py", CODE),)):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/assignments/{slug}/submissions", data=data)


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Submission, SubmissionFile, GradingRun)
        )


@pytest.fixture
def alice(make, auth):
    user_id = make.user("alice")
    auth.login("alice")
    return user_id


def test_submission_is_stored_and_enqueued(app, client, make, alice, sent_tasks):
    """A good upload stores the files and a queued run, then sends grade_submission on cpu."""
    make.assignment("toy")
    response = upload(client)
    assert response.status_code == 302
    with app.app_context():
        submission = db.session.scalars(select(Submission)).one()
        assert response.headers["Location"] == f"/submissions/{submission.id}"
        assert submission.user_id == alice and not submission.late
        assert [(f.name, f.content, f.size) for f in submission.files] == [
            ("layers.py", CODE, len(CODE))
        ]
        assert [r.status for r in submission.runs] == [RunState.QUEUED]
        assert submission.runs[0].suite_id == submission.assignment.current_suite_id
        sub_id = submission.id
    assert sent_tasks("cpu") == [("webapp.grade_submission", [sub_id])]
    assert sent_tasks("gpu") == []


def test_gpu_assignment_goes_to_gpu_queue(app, client, make, alice, sent_tasks):
    """gpu = "required" (or "preferred") sends the task to the gpu queue."""
    make.assignment("vision", package=make.package(slug="vision", extra_toml='gpu = "required"'))
    assert upload(client, "vision").status_code == 302
    assert [name for name, _ in sent_tasks("gpu")] == ["webapp.grade_submission"]
    assert sent_tasks("cpu") == []


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ((("model.py", CODE),), b"Not part of this assignment: model.py"),
        ((("layers.py", b"\xff\xfe not text"),), b"not UTF-8 text"),
        ((("layers.py", b"import torch\n"),), b"Your code cannot be graded"),
        ((), b"Choose the files to submit"),
    ],
)
def test_refused_upload_stores_nothing(app, client, make, alice, sent_tasks, files, message):
    """A bad upload re-renders the page (400) with the reason and stores and sends nothing."""
    make.assignment("toy", package=make.package(extra_toml='forbidden_imports = ["torch"]'))
    response = upload(client, files=files)
    assert response.status_code == 400
    assert message in response.data
    assert b"Not submitted:" in response.data
    assert counts(app) == (0, 0, 0)
    assert sent_tasks() == []


def test_closed_deadline_refuses(app, client, make, alice):
    """After the deadline a closed assignment refuses students (403) and stores nothing."""
    past = datetime.now(UTC) - timedelta(hours=1)
    make.assignment("toy", deadline=past, late_policy=LatePolicy.CLOSED)
    response = upload(client)
    assert response.status_code == 403
    assert b"The deadline has passed" in response.data
    assert counts(app) == (0, 0, 0)


def test_open_deadline_marks_late(app, client, make, alice):
    """After the deadline an open assignment accepts the work and flags it late."""
    make.assignment("toy", deadline=datetime.now(UTC) - timedelta(minutes=1))
    assert upload(client).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Submission.late)).one() is True


def test_staff_may_submit_after_a_closed_deadline(app, client, make, auth):
    """Staff can still try the grader on a closed assignment (the work is flagged late)."""
    make.user("tina", Role.TA)
    auth.login("tina")
    past = datetime.now(UTC) - timedelta(hours=1)
    make.assignment("toy", deadline=past, late_policy=LatePolicy.CLOSED)
    assert upload(client).status_code == 302


def test_oversized_request_is_413(app, client, make, alice):
    """A body over MAX_CONTENT_LENGTH is refused with 413 and a clear message."""
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    make.assignment("toy")
    response = upload(client, files=(("layers.py", b"#" * 100_000),))
    assert response.status_code == 413
    assert b"larger than the 0.0625 MiB limit" in response.data
    assert counts(app) == (0, 0, 0)


def test_zip_upload_is_accepted(app, client, make, alice):
    """One zip holding the files counts as uploading them."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hw/layers.py", CODE)
    make.assignment("toy")
    assert upload(client, files=(("hw.zip", buf.getvalue()),)).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(SubmissionFile.name)).all() == ["layers.py"]


def test_broker_down_keeps_the_submission(app, client, make, alice):
    """If the broker cannot be reached the submission is still stored and queued (the
    reconciler sends it later)."""
    app.extensions["celery"].conf.broker_url = "redis://127.0.0.1:1/0"
    make.assignment("toy")
    assert upload(client).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(GradingRun.status)).all() == [RunState.QUEUED]
