"""The reconciler: re-sends runs the broker lost, recovers runs whose worker died, and gives
up after MAX_ATTEMPTS claims; lost self-checks are sent again, dead ones recorded as failed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from grader.selfcheck import SelfCheckReport
from tests.conftest import run_of
from webapp.extensions import db
from webapp.jobs import grading, reconcile
from webapp.jobs.reconcile import reconcile_and_enqueue, send_report
from webapp.jobs.selfchecks import WORKER_LOST, claim_selfcheck, record_selfcheck
from webapp.models import (
    Assignment,
    GradingRun,
    RunState,
    SelfCheckStatus,
    Suite,
    utcnow,
)
from webapp.selfcheck import STALE_AFTER, report_of, request_selfcheck


def age(sub_id: int, **fields) -> None:
    """Move the run's timestamps into the past."""
    db.session.execute(
        update(GradingRun).where(GradingRun.submission_id == sub_id).values(**fields)
    )
    db.session.commit()


def test_fresh_runs_are_left_alone(ctx, sub_id):
    """A just-queued run and a just-started run are not touched."""
    assert reconcile.reconcile().to_send == []
    grading.claim_run(sub_id, worker="w1")
    report = reconcile.reconcile()
    assert (report.to_send, report.requeued, report.failed) == ([], [], [])
    assert run_of(sub_id).status is RunState.RUNNING


def test_stale_queued_run_is_resent(ctx, sub_id):
    """Queued longer than QUEUED_RESEND_AFTER: sent again (once per period)."""
    now = utcnow()
    age(sub_id, enqueued_at=now - reconcile.QUEUED_RESEND_AFTER - timedelta(seconds=1))
    report = reconcile.reconcile(now)
    assert report.to_send == [(sub_id, "cpu")] and len(report.resent) == 1
    assert run_of(sub_id).enqueued_at == now
    assert reconcile.reconcile(now + timedelta(minutes=1)).to_send == []


def test_run_of_a_dead_worker_is_requeued(ctx, sub_id):
    """Running past twice the wall limit plus grace: back to queued and re-sent."""
    claim = grading.claim_run(sub_id, worker="w1")
    limit = reconcile.running_limit(run_of(sub_id))
    assert limit == timedelta(seconds=240) + reconcile.RUNNING_GRACE  # toy suite: wall_s 120
    later = run_of(sub_id).started_at + limit + timedelta(seconds=1)
    report = reconcile.reconcile(later)
    assert report.to_send == [(sub_id, "cpu")]
    run = run_of(sub_id)
    assert (run.status, run.worker, run.started_at) == (RunState.QUEUED, None, None)
    assert grading.store_result(claim, grading.GradingResult("graded", 1, 10)) is False


def test_worker_lost_three_times_fails(ctx, sub_id):
    """After MAX_ATTEMPTS claims that never finished, the run fails with a clear message."""
    for _ in range(reconcile.MAX_ATTEMPTS):
        grading.claim_run(sub_id, worker="w1")
        later = run_of(sub_id).started_at + timedelta(days=1)
        report = reconcile.reconcile(later)
    assert report.failed and report.to_send == []
    run = run_of(sub_id)
    assert (run.status, run.message, run.attempt) == (
        RunState.FAILED,
        reconcile.WORKER_LOST_MESSAGE,
        reconcile.MAX_ATTEMPTS,
    )


def test_reconcile_command_sends_tasks(runner, app, sub_id, sent_tasks):
    """`flask reconcile` runs one pass and enqueues what it found."""
    with app.app_context():
        age(sub_id, enqueued_at=utcnow() - timedelta(days=1))
    result = runner.invoke(args=["reconcile"])
    assert result.exit_code == 0, result.output
    assert "resent 1, requeued 0, failed 0" in result.output
    assert sent_tasks("cpu") == [("webapp.grade_submission", [sub_id])]


def suite_of(assignment_id: int) -> Suite:
    db.session.expire_all()
    return db.session.get_one(Assignment, assignment_id).suites[-1]


def test_a_lost_queued_selfcheck_is_sent_again(app, make, sent_tasks):
    """A self-check queued past STALE_AFTER (the broker lost it) is queued afresh and sent;
    a fresh one is left alone."""
    with app.app_context():
        assignment_id = make.assignment("toy", published=False)
        suite = suite_of(assignment_id)
        assert request_selfcheck(suite, publish=True)
        assert sent_tasks("cpu") == [("webapp.selfcheck_suite", [suite.id])]
        assert reconcile_and_enqueue().selfchecks_resent == []
        later = utcnow() + STALE_AFTER + timedelta(minutes=1)
        report = send_report(reconcile.reconcile(later))
        assert (report.selfchecks_resent, report.selfchecks_failed) == ([suite.id], [])
        assert sent_tasks("cpu") == [("webapp.selfcheck_suite", [suite.id])]
        suite = suite_of(assignment_id)
        assert suite.selfcheck_status is SelfCheckStatus.QUEUED
        assert suite.selfcheck_at == later and suite.publish_when_checked
        assert claim_selfcheck(suite.id)  # the worker that gets the new message can claim it


def test_a_selfcheck_whose_worker_died_is_failed_and_not_published(app, make, sent_tasks):
    """A self-check running past STALE_AFTER outlived the task's hard limit: it is recorded
    as failed with a message saying so, its wish to publish is dropped, nothing is sent."""
    with app.app_context():
        assignment_id = make.assignment("toy", published=False)
        suite = suite_of(assignment_id)
        request_selfcheck(suite, publish=True)
        sent_tasks("cpu")
        assert claim_selfcheck(suite.id)
        report = reconcile.reconcile(utcnow() + STALE_AFTER + timedelta(minutes=1))
        assert (report.selfchecks_resent, report.selfchecks_failed) == ([], [suite.id])
        suite = suite_of(assignment_id)
        assert suite.selfcheck_status is SelfCheckStatus.FAILED
        assert not suite.publish_when_checked and not suite.assignment.published
        assert report_of(suite).error == WORKER_LOST
        assert sent_tasks("cpu") == []


def test_a_late_report_does_not_overwrite_a_selfcheck_recorded_as_lost(app, make, sent_tasks):
    """The worker's report is stored under its claim's fence: once the reconciler has failed
    the check as lost, the slow worker's report is dropped (as a run's late result is)."""
    with app.app_context():
        assignment_id = make.assignment("toy", published=False)
        suite = suite_of(assignment_id)
        request_selfcheck(suite, publish=True)
        sent_tasks("cpu")
        fence = claim_selfcheck(suite.id)
        reconcile.reconcile(utcnow() + STALE_AFTER + timedelta(minutes=1))
        late = SelfCheckReport("toy", suite.sha256, suite.max_score)
        assert record_selfcheck(suite.id, late, fence) is None
        suite = suite_of(assignment_id)
        assert suite.selfcheck_status is SelfCheckStatus.FAILED
        assert report_of(suite).error == WORKER_LOST and not suite.assignment.published


def test_a_report_under_a_live_claim_is_stored(app, make, sent_tasks):
    with app.app_context():
        assignment_id = make.assignment("toy", published=False)
        suite = suite_of(assignment_id)
        request_selfcheck(suite)
        sent_tasks("cpu")
        fence = claim_selfcheck(suite.id)
        failing = SelfCheckReport("toy", suite.sha256, suite.max_score, error="boom")
        assert record_selfcheck(suite.id, failing, fence) is not None
        assert suite_of(assignment_id).selfcheck_status is SelfCheckStatus.FAILED
        assert report_of(suite_of(assignment_id)).error == "boom"
