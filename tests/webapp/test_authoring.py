"""Instructor authoring without a worker: package upload (validated; nothing stored on error),
suite versions and the self-check gate on publishing, regrading an assignment, the student
download. Self-check verdicts are recorded here directly; tests/integration/test_authoring_flow.py
runs them through a real worker and Docker."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from grader.selfcheck import MUTANT, REFERENCE, STARTER, RunReport, SelfCheckReport
from tests.package_zips import zip_folder
from webapp.extensions import db
from webapp.jobs.selfchecks import record_selfcheck
from webapp.models import (
    Assignment,
    GradingRun,
    RunState,
    SelfCheckStatus,
    Submission,
    Suite,
    utcnow,
)

SELFCHECK_TASK = "webapp.selfcheck_suite"
GRADE_TASK = "webapp.grade_submission"


def upload(client, data: bytes, filename: str = "package.zip"):
    return client.post(
        "/instructor/upload",
        data={"package": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def verdict(app, suite_id: int, passed: bool) -> None:
    """Record a self-check report for the suite, as the worker would."""
    mutant_score = 5.0 if passed else 10.0
    runs = (
        RunReport("reference", REFERENCE, (10.0,), 10.0, (), 1.0),
        RunReport("starter", STARTER, (0.0,), 10.0, ("double_small", "double_large"), 1.0),
        RunReport("no_effect", MUTANT, (mutant_score,), 10.0, (), 1.0),
    )
    with app.app_context():
        suite = db.session.get_one(Suite, suite_id)
        report = SelfCheckReport(suite.assignment.slug, suite.sha256, 10.0, runs, "", 3.0)
        record_selfcheck(suite_id, report)


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Assignment)),
            db.session.scalar(select(func.count()).select_from(Suite)),
        )


def suite_state(app, slug: str) -> dict:
    """The assignment's published flag, current version and each version's check status."""
    with app.app_context():
        assignment = Assignment.by_slug(slug)
        return {
            "published": assignment.published,
            "current": assignment.current_suite.version if assignment.current_suite else None,
            "status": {s.version: s.selfcheck_status.value for s in assignment.suites},
            "wish": {s.version: s.publish_when_checked for s in assignment.suites},
            "ids": {s.version: s.id for s in assignment.suites},
        }


@pytest.fixture
def instructor(make, auth):
    make.people()
    auth.login("ivan")
    return auth


def test_upload_is_for_instructors_only(make, auth, client):
    """Students and TAs get 403 on the upload page; instructors see the form."""
    make.people()
    for name, code in (("alice", 403), ("tina", 403), ("ivan", 200)):
        auth.login(name)
        assert client.get("/instructor/upload").status_code == code
        auth.logout()


BAD_TOML = 'slug = "toy"\ntitle = [unclosed\n'


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda folder: b"this is not a zip", "not a zip file"),
        (lambda folder: zip_folder(folder, {"assignment.toml": BAD_TOML}), "does not parse"),
        (
            lambda folder: zip_folder(folder, {"assignment.toml": None}),
            "assignment.toml is missing",
        ),
        (
            lambda folder: zip_folder(folder, {"solution/layers.py": None}),
            "solution/layers.py is missing",
        ),
        (
            lambda folder: zip_folder(folder, {"assignment.toml": 'slug = "Bad Slug"\n'}),
            "use 2-40 lowercase letters",
        ),
    ],
    ids=["not-zip", "bad-toml", "no-toml", "no-solution", "bad-slug"],
)
def test_a_bad_package_is_refused_with_its_error_and_nothing_is_stored(
    instructor, client, make, app, sent_tasks, build, message
):
    """The PackageError is shown on the page (400); no assignment, suite or task is made."""
    response = upload(client, build(make.package_dir("toy")))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was stored" in page and message in page
    assert counts(app) == (0, 0)
    assert sent_tasks() == []


def test_upload_without_a_file_is_refused(instructor, client, app):
    response = client.post("/instructor/upload", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert counts(app) == (0, 0)


def test_a_good_zip_creates_an_unpublished_assignment_and_queues_its_selfcheck(
    instructor, client, make, app, sent_tasks
):
    """A new slug: the assignment (unpublished), suite v1 current, its self-check queued on the
    cpu queue after commit."""
    data = zip_folder(make.package_dir("toy", handout="# Toy v1\n"))
    response = upload(client, data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/instructor/assignments/toy/suites")
    state = suite_state(app, "toy")
    assert state["published"] is False and state["current"] == 1
    assert state["status"] == {1: "queued"} and state["wish"] == {1: False}
    assert sent_tasks("cpu") == [(SELFCHECK_TASK, [state["ids"][1]])]
    with app.app_context():
        assignment = Assignment.by_slug("toy")
        assert assignment.title == "Toy assignment toy"
        assert assignment.current_suite.handout == "# Toy v1\n"
    page = client.get("/instructor/assignments/toy/suites").get_data(as_text=True)
    assert "selfcheck.js" in page and "badge-queued" in page


def test_the_same_zip_twice_stores_one_version(instructor, client, make, app, sent_tasks):
    data = zip_folder(make.package_dir("toy"))
    upload(client, data)
    sent_tasks()
    response = upload(client, data)
    assert response.status_code == 302
    assert counts(app) == (1, 1)
    assert sent_tasks() == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "identical to suite v1" in page


def test_a_new_version_of_a_published_assignment_goes_live_only_when_its_check_passes(
    instructor, client, make, app, sent_tasks
):
    """v2 of a published assignment is stored aside; a failed check leaves v1 current, a
    passed one (with the publish wish the upload recorded) makes v2 current."""
    make.assignment("toy")
    folder = make.package_dir("toy", handout="# Toy v2\n")
    upload(client, zip_folder(folder))
    state = suite_state(app, "toy")
    assert state["current"] == 1 and state["status"][2] == "queued" and state["wish"][2]
    listing = client.get("/instructor/assignments").get_data(as_text=True)
    assert "v2 pending: queued" in listing and "selfcheck.js" not in listing  # v1 is not checking
    verdict(app, state["ids"][2], passed=False)
    state = suite_state(app, "toy")
    assert state["current"] == 1 and state["status"][2] == "failed" and not state["wish"][2]

    client.post(f"/instructor/suites/{state['ids'][2]}/publish")  # asks for a new check
    assert suite_state(app, "toy")["status"][2] == "queued"
    assert sent_tasks("cpu")[-1] == (SELFCHECK_TASK, [state["ids"][2]])
    verdict(app, state["ids"][2], passed=True)
    state = suite_state(app, "toy")
    assert state["current"] == 2 and state["published"] and state["status"][2] == "passed"
    with app.app_context():
        assert Assignment.by_slug("toy").current_suite.handout == "# Toy v2\n"


def test_publish_runs_the_selfcheck_first_and_refuses_a_failing_suite(
    instructor, client, make, app, sent_tasks
):
    """Publish on the assignments page queues the check; a failed check publishes nothing and
    the suite page shows the report and why it fails."""
    upload(client, zip_folder(make.package_dir("toy")))
    suite_id = suite_state(app, "toy")["ids"][1]
    verdict(app, suite_id, passed=True)  # the upload's own check
    with app.app_context():  # pretend the check was never run, to exercise the gate
        db.session.get_one(Suite, suite_id).selfcheck_status = SelfCheckStatus.UNCHECKED
        db.session.commit()
    sent_tasks()
    response = client.post("/instructor/assignments/toy/publish", data={"published": "1"})
    assert response.headers["Location"].endswith("/instructor/assignments/toy/suites")
    state = suite_state(app, "toy")
    assert state["published"] is False and state["status"][1] == "queued" and state["wish"][1]
    assert sent_tasks("cpu") == [(SELFCHECK_TASK, [suite_id])]
    listing = client.get("/instructor/assignments").get_data(as_text=True)
    assert "selfcheck.js" in listing and "badge-queued" in listing  # live while checking

    verdict(app, suite_id, passed=False)
    assert suite_state(app, "toy")["published"] is False
    page = client.get("/instructor/assignments/toy/suites").get_data(as_text=True)
    assert "SURVIVED" in page and "Why it fails" in page
    assert "mutant no_effect scores full marks: no case catches it" in page
    assert client.get(f"/instructor/suites/{suite_id}/status").get_json() == {
        "status": "failed",
        "in_flight": False,
    }


def test_publishing_a_suite_that_passed_is_immediate(instructor, client, make, app, sent_tasks):
    upload(client, zip_folder(make.package_dir("toy")))
    state = suite_state(app, "toy")
    verdict(app, state["ids"][1], passed=True)
    sent_tasks()
    response = client.post("/instructor/assignments/toy/publish", data={"published": "1"})
    assert response.headers["Location"].endswith("/instructor/assignments")
    assert suite_state(app, "toy")["published"] is True
    assert sent_tasks() == []
    assert "Kill rate: 1/1 = 100%" in client.get("/instructor/assignments/toy/suites").get_data(
        as_text=True
    )


def test_an_older_version_passing_late_does_not_replace_a_newer_current_one(
    instructor, client, make, app
):
    make.assignment("toy")
    for text in ("# v2\n", "# v3\n"):
        upload(client, zip_folder(make.package_dir("toy", handout=text)))
    ids = suite_state(app, "toy")["ids"]
    verdict(app, ids[3], passed=True)
    verdict(app, ids[2], passed=True)
    assert suite_state(app, "toy")["current"] == 3


def test_a_check_in_flight_is_not_queued_twice_until_it_is_stale(
    instructor, client, make, app, sent_tasks
):
    upload(client, zip_folder(make.package_dir("toy")))
    suite_id = suite_state(app, "toy")["ids"][1]
    sent_tasks()
    client.post(f"/instructor/suites/{suite_id}/selfcheck")
    assert sent_tasks() == []
    with app.app_context():
        from webapp.selfcheck import STALE_AFTER

        db.session.get_one(Suite, suite_id).selfcheck_at = utcnow() - STALE_AFTER
        db.session.commit()
    client.post(f"/instructor/suites/{suite_id}/selfcheck")
    assert sent_tasks() == [(SELFCHECK_TASK, [suite_id])]


def graded_submission(app, make, user_id: int, assignment_id: int, score: float) -> int:
    """A submission whose only run is graded with `score`."""
    submission_id = make.submission(user_id, assignment_id)
    with app.app_context():
        run = db.session.get_one(Submission, submission_id).runs[0]
        run.status, run.score, run.max_score = RunState.GRADED, score, 10.0
        db.session.commit()
    return submission_id


def new_current_suite(app, make, assignment_id: int) -> int:
    """Add suite v2 and make it current (as a passed self-check would)."""
    with app.app_context():
        assignment = db.session.get_one(Assignment, assignment_id)
        suite = assignment.add_suite(make.package(slug="toy", handout="# v2\n"))
        db.session.commit()
        return suite.id


def test_regrade_queues_a_run_per_submission_and_keeps_earlier_results(
    instructor, client, make, app, sent_tasks
):
    """After v2 goes live, regrade-all adds a queued v2 run to every finished submission,
    enqueued after commit; the shown result stays the v1 one until the new run is graded; a
    submission still being graded is left alone."""
    people = {"alice": 1, "bob": 2}
    assignment_id = make.assignment("toy")
    done = [graded_submission(app, make, uid, assignment_id, 7.0) for uid in people.values()]
    busy = make.submission(1, assignment_id)  # its run is still queued
    v2 = new_current_suite(app, make, assignment_id)
    page = client.get("/instructor/assignments/toy/suites").get_data(as_text=True)
    assert "Regrade all 3 submissions with v2" in page and "3 last graded with another" in page
    sent_tasks()

    response = client.post("/instructor/assignments/toy/regrade", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Queued 2 regrades with suite v2" in page and "1 submission still being" in page
    assert sorted(sent_tasks("cpu")) == sorted((GRADE_TASK, [i]) for i in done)
    with app.app_context():
        for submission_id in done:
            submission = db.session.get_one(Submission, submission_id)
            assert [r.status for r in submission.runs] == [RunState.GRADED, RunState.QUEUED]
            assert submission.latest_run.suite_id == v2
            assert submission.result_run.score == 7.0  # the earlier result is still shown
        assert len(db.session.get_one(Submission, busy).runs) == 1
    body = client.get(f"/api/v1/submissions/{done[0]}").get_json()
    assert body["status"] == "queued" and body["score"] == 7.0


def test_regrade_is_refused_to_students_and_allowed_to_tas(make, auth, client, app):
    make.people()
    assignment_id = make.assignment("toy")
    graded_submission(app, make, 1, assignment_id, 3.0)
    auth.login("alice")
    assert client.post("/instructor/assignments/toy/regrade").status_code == 403
    auth.logout()
    auth.login("tina")
    assert client.post("/instructor/assignments/toy/regrade").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GradingRun)) == 2


def test_regrade_command(runner, make, app, sent_tasks):
    """`assignments regrade SLUG` does what the button does and says how many it queued."""
    make.people()
    assignment_id = make.assignment("toy")
    submission_id = graded_submission(app, make, 1, assignment_id, 3.0)
    new_current_suite(app, make, assignment_id)
    sent_tasks()
    result = runner.invoke(args=["assignments", "regrade", "toy"])
    assert result.exit_code == 0, result.output
    assert "queued 1 regrade with suite v2; 0 still being graded" in result.output
    assert sent_tasks("cpu") == [(GRADE_TASK, [submission_id])]
    assert runner.invoke(args=["assignments", "regrade", "nope"]).exit_code != 0


def test_per_submission_regrade_uses_the_same_path(instructor, client, make, app, sent_tasks):
    """POST /submissions/<id>/regrade adds one queued run with the current suite."""
    assignment_id = make.assignment("toy")
    submission_id = graded_submission(app, make, 1, assignment_id, 3.0)
    v2 = new_current_suite(app, make, assignment_id)
    sent_tasks()
    client.post(f"/submissions/{submission_id}/regrade")
    assert sent_tasks("cpu") == [(GRADE_TASK, [submission_id])]
    with app.app_context():
        assert db.session.get_one(Submission, submission_id).latest_run.suite_id == v2


def test_students_download_the_handout_starter_and_public_tests(make, auth, client):
    """The starter zip holds README.md, the starter files and public tests; no solution,
    hidden cases or mutants. Unpublished assignments are not downloadable by students."""
    make.people()
    make.assignment("toy", package=make.package(slug="toy", handout="# Toy handout\n"))
    make.assignment("secret", published=False)
    auth.login("alice")
    response = client.get("/assignments/toy/starter.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "toy-starter.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        names = sorted(zf.namelist())
        assert names == ["toy/README.md", "toy/layers.py", "toy/public_tests/test_public.py"]
        assert zf.read("toy/README.md") == b"# Toy handout\n"
        assert b"NotImplementedError" in zf.read("toy/layers.py")
    page = client.get("/assignments/toy").get_data(as_text=True)
    assert "/assignments/toy/starter.zip" in page
    assert client.get("/assignments/secret/starter.zip").status_code == 404


def test_a_stored_version_keeps_the_configuration_it_was_validated_with(app, make, monkeypatch):
    """Suite.config reads what was validated when the version was stored, not today's parse."""
    assignment_id = make.assignment(slug="toy")
    with app.app_context():
        suite = db.session.get_one(Assignment, assignment_id).current_suite
        stored = suite.config

        def stricter(_raw):
            raise AssertionError("Suite.config parsed the TOML again")

        monkeypatch.setattr("webapp.models.assignments.parse_config", stricter)
        db.session.expire_all()
        again = db.session.get_one(Suite, suite.id)
        assert again.config_json["schema"] == 1
        assert again.config == stored
