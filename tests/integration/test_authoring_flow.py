"""Authoring end to end with a real Celery worker and Docker: an instructor uploads a fifth
assignment (tests/fixtures/batchnorm) as a zip in the web UI, publishing waits for its
self-check, a failing suite is refused, a new version goes live after its check and a regrade
moves every submission onto it."""

from __future__ import annotations

import io
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.support import PASSWORD, Api
from tests.package_zips import BATCHNORM, batchnorm_variant, zip_folder
from webapp.models import Assignment

pytestmark = [pytest.mark.integration, pytest.mark.docker]

CHECK_TIMEOUT_S = 180.0


def browser(live_app: Flask, username: str) -> FlaskClient:
    """A web client logged in through the login form."""
    client = live_app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def upload(client: FlaskClient, data: bytes) -> None:
    response = client.post(
        "/instructor/upload",
        data={"package": (io.BytesIO(data), "package.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def suite_ids(live_app: Flask, slug: str) -> dict[int, int]:
    """Version -> suite id of an assignment."""
    with live_app.app_context():
        return {s.version: s.id for s in Assignment.by_slug(slug).suites}


def wait_checked(client: FlaskClient, suite_id: int, timeout: float = CHECK_TIMEOUT_S) -> str:
    """Poll the page's status endpoint until the self-check ends; return its status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/instructor/suites/{suite_id}/status").get_json()
        if not body["in_flight"]:
            return body["status"]
        time.sleep(0.5)
    raise AssertionError(f"suite {suite_id} still {body['status']} after {timeout}s")


def state(live_app: Flask, slug: str) -> tuple[bool, int | None]:
    """(published, current version) of an assignment, read fresh."""
    with live_app.app_context():
        assignment = Assignment.by_slug(slug)
        current = assignment.current_suite
        return assignment.published, current.version if current else None


def test_fifth_assignment_is_uploaded_checked_published_and_graded(worker, live_app, api):
    """Upload -> self-check on the worker -> publish; students then see it, download the
    starter and get full marks for the reference solution."""
    ivo = browser(live_app, "ivo")
    upload(ivo, zip_folder(BATCHNORM))
    suite_id = suite_ids(live_app, "batchnorm")[1]
    response = ivo.post("/instructor/assignments/batchnorm/publish", data={"published": "1"})
    assert response.status_code == 302
    assert wait_checked(ivo, suite_id) == "passed"
    assert state(live_app, "batchnorm") == (True, 1)
    page = ivo.get("/instructor/assignments/batchnorm/suites").get_data(as_text=True)
    assert "Kill rate: 3/3 = 100%" in page and "mutants/momentum_swapped" in page

    ana = browser(live_app, "ana")
    assert ana.get("/assignments/batchnorm").status_code == 200
    starter = ana.get("/assignments/batchnorm/starter.zip")
    assert starter.status_code == 200 and b"batchnorm/batchnorm.py" in starter.data
    solution = {"batchnorm.py": (BATCHNORM / "solution" / "batchnorm.py").read_bytes()}
    submitted = api["ana"].submit("batchnorm", solution).get_json()
    result = api["ana"].wait_graded(submitted["id"])
    assert (result["status"], result["score"], result["max_score"]) == ("graded", 10, 10)


def test_publishing_a_suite_whose_selfcheck_fails_is_refused(worker, live_app):
    """A surviving mutant fails the check: the assignment stays unpublished, students cannot
    see it, and the suite page shows the table and why."""
    ivo = browser(live_app, "ivo")
    upload(ivo, batchnorm_variant("bn_weak", survivor=True))
    suite_id = suite_ids(live_app, "bn_weak")[1]
    ivo.post("/instructor/assignments/bn_weak/publish", data={"published": "1"})
    assert wait_checked(ivo, suite_id) == "failed"
    assert state(live_app, "bn_weak") == (False, 1)
    page = ivo.get("/instructor/assignments/bn_weak/suites").get_data(as_text=True)
    assert "SURVIVED" in page and "Why it fails" in page
    seeds = live_app.config["SELFCHECK_SEEDS"]  # the worker checks on as many fresh seeds
    assert f"mutant no_op scores full marks on {seeds} of {seeds} seeds: no case" in page
    assert browser(live_app, "ana").get("/assignments/bn_weak").status_code == 404


def test_a_new_version_goes_live_after_its_check_and_regrade_moves_submissions_onto_it(
    worker, live_app, api
):
    """v2 (running_stats worth 5 points instead of 2) of a published assignment becomes current
    only once its check passed; regrade-all then grades the old submission with v2."""
    ivo = browser(live_app, "ivo")
    upload(ivo, batchnorm_variant("bn_live"))
    ivo.post("/instructor/assignments/bn_live/publish", data={"published": "1"})
    assert wait_checked(ivo, suite_ids(live_app, "bn_live")[1]) == "passed"
    buggy = {"batchnorm.py": (BATCHNORM / "mutants/momentum_swapped/batchnorm.py").read_bytes()}
    submitted = api["ben"].submit("bn_live", buggy).get_json()
    first = api["ben"].wait_graded(submitted["id"])
    assert (first["score"], first["max_score"]) == (8, 10)

    upload(ivo, batchnorm_variant("bn_live", points={"running_stats": 5}))
    assert state(live_app, "bn_live") == (True, 1)  # not current before its check passes
    assert wait_checked(ivo, suite_ids(live_app, "bn_live")[2]) == "passed"
    assert state(live_app, "bn_live") == (True, 2)

    response = ivo.post("/instructor/assignments/bn_live/regrade", follow_redirects=True)
    assert "Queued 1 regrade with suite v2" in response.get_data(as_text=True)
    regraded = wait_regraded(api["ben"], submitted["id"], max_score=13)
    assert (regraded["status"], regraded["score"]) == ("graded", 8)


def wait_regraded(student: Api, submission_id: int, max_score: float) -> dict:
    """Wait until the shown result is the one graded with the new suite (its max score)."""
    deadline = time.monotonic() + CHECK_TIMEOUT_S
    while time.monotonic() < deadline:
        body = student.submission(submission_id).get_json()
        if body["status"] == "graded" and body["max_score"] == max_score:
            return body
        assert body["max_score"] in (10, max_score)  # the old result stays shown meanwhile
        time.sleep(0.25)
    raise AssertionError(f"submission {submission_id} was not regraded: {body}")
