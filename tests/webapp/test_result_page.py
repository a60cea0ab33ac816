"""The result page leads with what failed, says what each case checks, links back to the
assignment, and shows staff a shorter log; the operations page shows why a run failed."""

from __future__ import annotations

from grader.job import CaseOutcome, CaseStatus, GradingResult, RunStatus
from grader.package import load_package
from webapp.extensions import db
from webapp.jobs import grading
from webapp.models import GradingRun, Role, RunState, Submission

TRACEBACK = (
    "Traceback (frames in your files):\n"
    '  File "/submission/layers.py", line 2, in double\n'
    "NotImplementedError\n"
)
PRINTED = "loss went up: 42\n"
DESCRIBED = """

[[cases]]
name = "double_tiny"
points = 1
description = "doubles a scalar"
visibility = "visible"

[[cases]]
name = "double_secret"
points = 1
description = "doubles the secret matrix"
visibility = "hidden"
"""


def graded(app, make, log: str = "") -> tuple[int, int]:
    """alice's toy submission graded: double_tiny passed, double_secret and double_small failed."""
    folder = make.package_dir()
    toml = folder / "assignment.toml"
    toml.write_text(toml.read_text() + DESCRIBED)
    alice = make.user("alice")
    sub_id = make.submission(alice, make.assignment("toy", package=load_package(folder)))
    cases = [
        CaseOutcome("double_tiny", 1, 1, CaseStatus.PASSED, "ok", output=PRINTED),
        CaseOutcome("double_small", 0, 3, CaseStatus.ERROR, "raised", detail="NotImplementedError"),
        CaseOutcome("double_large", 7, 7, CaseStatus.PASSED, "ok", output=PRINTED),
        CaseOutcome(
            "double_secret", 0, 1, CaseStatus.FAILED, "wrong", output=PRINTED, visibility="hidden"
        ),
    ]
    with app.app_context():
        claim = grading.claim_run(sub_id, worker="w1")
        grading.store_result(
            claim,
            GradingResult(status=RunStatus.GRADED, score=8, max_score=12, cases=cases, log=log),
        )
    return alice, sub_id


def test_failed_cases_come_first_with_a_summary_and_links(app, make, client, auth):
    """'2 of 4 cases did not pass' links to them; they lead the table; links go back."""
    _, sub_id = graded(app, make)
    auth.login("alice")
    html = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert "2 of 4 cases did not pass:" in html
    assert '<a href="#case-double_small">double_small</a>' in html
    rows = [html.index(f'id="case-{n}"') for n in ("double_small", "double_secret", "double_tiny")]
    assert rows == sorted(rows)
    assert 'href="/assignments/toy">Back to the assignment</a>' in html
    assert 'href="/assignments/toy#submit-heading">Submit again</a>' in html
    assert 'data-label="Feedback"' in html


def test_descriptions_show_only_for_cases_whose_details_the_viewer_sees(app, make, client, auth):
    """A visible case's description is shown to the student; a hidden one's is not (staff see
    both)."""
    _, sub_id = graded(app, make)
    make.user("tina", Role.TA)
    auth.login("alice")
    html = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert "doubles a scalar" in html and "doubles the secret matrix" not in html
    auth.logout()
    auth.login("tina")
    html = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert "doubles a scalar" in html and "doubles the secret matrix" in html
    assert "Submit again" not in html  # staff do not submit for the student


def test_staff_see_repeated_tracebacks_once_with_their_count(app, make, client, auth):
    """Twenty identical tracebacks in the sandbox log are one block marked ×20."""
    _, sub_id = graded(app, make, log="harness ready\n" + TRACEBACK * 20)
    make.user("tina", Role.TA)
    auth.login("tina")
    html = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert html.count("NotImplementedError\n") == 1
    assert "×20" in html
    assert 'tabindex="0" role="region" aria-label="Sandbox log"' in html


def test_a_running_submission_shows_how_long_it_has_run(app, make, client, auth):
    """While running, the page says for how many seconds (submission.js counts on)."""
    sub_id = make.submission(make.user("alice"), make.assignment("toy"))
    with app.app_context():
        grading.claim_run(sub_id, worker="w1")
    auth.login("alice")
    html = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert 'id="elapsed" class="note" aria-hidden="true" data-seconds="0">for 0 s' in html


def test_failed_runs_show_their_log_to_staff_on_operations_and_the_submission(
    app, make, client, auth
):
    """The run's message and the end of its log, in a <details>, on both pages."""
    alice, sub_id = graded(app, make)
    make.user("tina", Role.TA)
    with app.app_context():
        submission = db.session.get_one(Submission, sub_id)
        submission.runs.append(
            GradingRun(
                suite_id=submission.assignment.current_suite_id,
                status=RunState.FAILED,
                message="Sandbox image missing",
                log_tail="docker said: no such image\n" + TRACEBACK * 3,
            )
        )
        db.session.commit()
    auth.login("tina")
    for path in ("/staff/operations", f"/submissions/{sub_id}"):
        html = client.get(path).get_data(as_text=True)
        assert "Sandbox image missing" in html, path
        assert '<details class="failure-detail">' in html and "docker said: no such image" in html
        assert "×3" in html, path
    auth.logout()
    auth.login("alice")
    assert "docker said" not in client.get(f"/submissions/{sub_id}").get_data(as_text=True)


def test_cases_that_printed_the_same_show_it_once(app, make, client, auth):
    """Identical outputs are one <details> naming the cases; a hidden case's is not counted
    for the student (staff see it among them)."""
    _, sub_id = graded(app, make)
    make.user("tina", Role.TA)
    auth.login("alice")
    html = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert html.count(PRINTED) == 1
    assert "<code>double_tiny, double_large</code>" in html and "×2" in html
    auth.logout()
    auth.login("tina")
    html = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert "<code>double_tiny, double_large, double_secret</code>" in html and "×3" in html
