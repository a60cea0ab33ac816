"""A failed regrade is never silent: under FAILED_RUN_POLICY "keep" the last graded score
counts, flagged; under "hold" it is withheld until a regrade succeeds or staff acknowledge.
Staff see the flag and the error on the gradebook (table, CSV), the submission page and the
operations page; the student sees that the run failed and which score counts."""

from __future__ import annotations

import csv
import io

import pytest

from tests.webapp.gradebook.gradebook_support import add_run, at, build_scheme, submission_at
from webapp.extensions import db
from webapp.gradebook.service import compute_gradebook
from webapp.models import GradingRun, RunState, Submission

ERROR = "Grading stopped on an internal error. Staff have been told."


def fail_latest(app, submission_id: int) -> None:
    """A regrade of the submission that failed with ERROR."""
    with app.app_context():
        submission = db.session.get_one(Submission, submission_id)
        run = GradingRun(
            suite_id=submission.assignment.current_suite_id, status=RunState.FAILED, message=ERROR
        )
        submission.runs.append(run)
        db.session.commit()


@pytest.fixture(params=["keep", "hold"])
def policy(request) -> str:
    return request.param


@pytest.fixture
def app_config(app_config, policy):
    return {**app_config, "FAILED_RUN_POLICY": policy}


@pytest.fixture
def ids(app, make) -> dict[str, int]:
    """alice's a1 (rule last): #first 4/10, then #failed 9/10 whose regrade failed."""
    ids = make.people()
    ids["a1"] = make.assignment("a1")
    build_scheme(app, [ids["a1"]])
    ids["first"] = submission_at(app, ids["alice"], ids["a1"], at(-2), 4)
    ids["failed"] = submission_at(app, ids["alice"], ids["a1"], at(-1), 9)
    fail_latest(app, ids["failed"])
    return ids


def a1_cell(app):
    with app.app_context():
        return compute_gradebook().rows[0].cells["a1"]


def page(client, auth, user: str, path: str) -> str:
    auth.login(user)
    html = client.get(path).get_data(as_text=True)
    auth.logout()
    return html


def test_gradebook_numbers_follow_the_policy(app, ids, policy):
    """keep: the failed submission's earlier 9 counts; hold: it is withheld, so the earlier
    submission's 4 counts. Either way the cell carries the failure."""
    cell = a1_cell(app)
    expected = {"keep": (9, ids["failed"]), "hold": (4, ids["first"])}[policy]
    assert (cell.score, cell.counted.attempt_id) == expected
    assert [(f.attempt_id, f.message, f.held) for f in cell.failed] == [
        (ids["failed"], ERROR, policy == "hold")
    ]
    with app.app_context():
        total = compute_gradebook().rows[0].total
    assert total == pytest.approx(0.3 * cell.score / 10 * 100)


def test_hold_withholds_a_lone_submission_entirely(app, make, policy):
    """With no other graded submission, hold leaves the item missing until it is resolved."""
    alice = make.user("alice")
    a1 = make.assignment("a1")
    build_scheme(app, [a1])
    only = submission_at(app, alice, a1, at(-1), 9)
    fail_latest(app, only)
    cell = a1_cell(app)
    assert cell.score == (9 if policy == "keep" else None)
    assert cell.held is (policy == "hold")


def test_a_queued_regrade_keeps_the_flag_and_a_graded_one_clears_it(app, ids, policy):
    add_run(app, ids["failed"], None)  # staff asked for a regrade: still pending
    assert a1_cell(app).failed[0].held is (policy == "hold")
    with app.app_context():
        run = db.session.get_one(Submission, ids["failed"]).runs[-1]
        run.status, run.score, run.max_score = RunState.GRADED, 8.0, 10.0
        db.session.commit()
    cell = a1_cell(app)
    assert (cell.score, cell.failed) == (8, ())


def test_acknowledging_releases_a_held_score(app, client, auth, ids, policy):
    auth.login("tina")
    response = client.post(f"/submissions/{ids['failed']}/acknowledge")
    assert response.status_code == 302
    cell = a1_cell(app)
    assert (cell.score, cell.failed[0].held) == (9, False)
    html = client.get(f"/submissions/{ids['failed']}").get_data(as_text=True)
    assert "Acknowledged by tina" in html


def test_students_cannot_acknowledge(client, auth, ids):
    auth.login("alice")
    assert client.post(f"/submissions/{ids['failed']}/acknowledge").status_code == 403


def test_staff_gradebook_table_and_csv_show_the_failure(client, auth, ids, policy):
    effect = "held for review" if policy == "hold" else "earlier score kept"
    note = f"#{ids['failed']} latest run failed ({effect}): {ERROR}"
    auth.login("tina")
    html = client.get("/gradebook").get_data(as_text=True)
    assert 'class="failed-run"' in html and f'title="{note}"' in html
    rows = list(csv.reader(io.StringIO(client.get("/gradebook/export.csv").get_data(as_text=True))))
    assert rows[0][-1] == "failed runs"
    assert rows[1][-1] == f"a1 {note}"
    record = client.get("/api/v1/gradebook").get_json()["students"][0]
    assert record["failed_runs"] == [
        {"item": "a1", "submission": ids["failed"], "held": policy == "hold", "error": ERROR}
    ]


def test_submission_page_banner_for_staff_and_student(client, auth, ids, policy):
    path = f"/submissions/{ids['failed']}"
    staff = page(client, auth, "tina", path)
    assert f"The latest run of this submission failed:</strong> {ERROR}" in staff
    student = page(client, auth, "alice", path)
    assert "The latest grading run of your submission failed" in student and ERROR in student
    assert "Acknowledge" not in student
    if policy == "keep":
        assert "The score shown is from the earlier run of" in staff
        assert "is the one that counts for this submission" in student
    else:
        assert "Its score is held for review" in staff and "held for review</span>" in staff
        assert "this submission's score is on hold and does not count" in student


def test_student_grades_say_which_score_counts(client, auth, ids, policy):
    html = page(client, auth, "alice", "/grades")
    assert "its latest grading run failed" in html
    if policy == "keep":
        assert "The score of its last successful run still counts." in html
    else:
        assert "on hold until staff regrade it" in html
        assert f"#{ids['failed']} on hold for review" in html  # in the counting explanation


def test_operations_page_lists_failed_submissions(client, auth, ids, policy):
    html = page(client, auth, "tina", "/staff/operations")
    section = html.split("Submissions whose latest run failed", 1)[1].split("<h2>", 1)[0]
    assert f"/submissions/{ids['failed']}" in section and ERROR in section
    assert f'/submissions/{ids["first"]}"' not in section
    assert ("held for review" in section) is (policy == "hold")
    assert ("9 / 10 kept" in section) is (policy == "keep")
    assert f"Failed-run policy: <strong>{policy}</strong>" in html
