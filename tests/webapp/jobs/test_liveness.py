"""Dead-worker recovery from run heartbeats (real Redis): a running run whose heartbeat has
stopped goes back to the queue on the next reconciler pass, long before its time limit; a run
still beaten is left alone; a worker that was only slow cannot store a second result."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from sqlalchemy import func, select, update

from grader.job import CaseOutcome, CaseStatus, GradingResult, RunStatus
from webapp.extensions import db
from webapp.jobs import grading, reconcile
from webapp.jobs.liveness import RUN_BEAT_TTL_S, RunHeartbeat, beating, run_key
from webapp.models import CaseResult, GradingRun, RunState, Submission, utcnow


@pytest.fixture
def broker(app):
    client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=5)
    yield client
    client.close()


@pytest.fixture
def claim(ctx, sub_id, broker) -> grading.Claim:
    taken = grading.claim_run(sub_id, worker="celery@dead")
    broker.delete(run_key(taken.run_id))  # no key left over from another test's run 1
    yield taken
    broker.delete(run_key(taken.run_id))


def started_ago(run_id: int, seconds: float) -> None:
    db.session.execute(
        update(GradingRun)
        .where(GradingRun.id == run_id)
        .values(started_at=utcnow() - timedelta(seconds=seconds))
    )
    db.session.commit()


def run(run_id: int) -> GradingRun:
    db.session.expire_all()
    return db.session.get_one(GradingRun, run_id)


def graded() -> GradingResult:
    case = CaseOutcome("double_small", 3.0, 3.0, CaseStatus.PASSED, "ok", 0.1)
    return GradingResult(RunStatus.GRADED, 3.0, 10.0, [case], "done")


def test_a_run_whose_heartbeat_stopped_is_requeued_on_the_next_pass(claim, sent_tasks):
    """No heartbeat for RUN_BEAT_TTL_S: back to queued (the worker cleared), and sent."""
    started_ago(claim.run_id, RUN_BEAT_TTL_S + 1)
    report = reconcile.reconcile()
    assert report.requeued == [claim.run_id]
    after = run(claim.run_id)
    assert (after.status, after.worker, after.attempt) == (RunState.QUEUED, None, 1)
    assert report.to_send == [(after.submission_id, "cpu")]


def test_a_run_just_claimed_is_given_time_to_beat(claim):
    started_ago(claim.run_id, RUN_BEAT_TTL_S - 5)
    assert reconcile.reconcile().requeued == []


def test_a_beating_run_is_left_alone_however_long_it_runs(app, claim):
    """The worker beats: the run stays running (its time limit, minutes away, still applies)."""
    started_ago(claim.run_id, 10 * RUN_BEAT_TTL_S)
    with RunHeartbeat(app.config["REDIS_URL"], claim, every_s=0.1):
        assert beating(app.config["REDIS_URL"], [claim.run_id]) == {claim.run_id: 1}
        assert reconcile.reconcile().requeued == []
    assert run(claim.run_id).status is RunState.RUNNING
    assert beating(app.config["REDIS_URL"], [claim.run_id]) == {}  # withdrawn at the end


def test_a_heartbeat_of_an_earlier_attempt_does_not_count(app, claim, broker):
    """A key naming attempt 1 says nothing about attempt 2's worker."""
    broker.set(run_key(claim.run_id), 1, ex=RUN_BEAT_TTL_S)
    db.session.execute(update(GradingRun).values(attempt=2))
    db.session.commit()
    started_ago(claim.run_id, RUN_BEAT_TTL_S + 1)
    assert reconcile.reconcile().requeued == [claim.run_id]


def test_without_redis_only_the_time_limit_applies(app, claim):
    """Unreadable heartbeats are no evidence of death: the run is left to its time limit."""
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    started_ago(claim.run_id, RUN_BEAT_TTL_S + 60)
    assert reconcile.reconcile().requeued == []
    started_ago(claim.run_id, reconcile.running_limit(run(claim.run_id)).total_seconds() + 1)
    assert reconcile.reconcile().requeued == [claim.run_id]


def test_a_slow_worker_cannot_store_a_second_result(claim):
    """The first worker went quiet and its run was given to a second, which stored a result;
    the first one's result, arriving late, is dropped, and the run has one set of cases."""
    started_ago(claim.run_id, RUN_BEAT_TTL_S + 1)
    assert reconcile.reconcile().requeued == [claim.run_id]
    submission_id = run(claim.run_id).submission_id
    second = grading.claim_run(submission_id, worker="celery@fresh")
    assert grading.store_result(second, graded()) is True
    assert grading.store_result(claim, graded()) is False
    cases = db.session.scalar(select(func.count(CaseResult.id)))
    runs = db.session.scalar(
        select(func.count(GradingRun.id)).where(GradingRun.submission_id == submission_id)
    )
    assert (cases, runs) == (1, 1)
    assert db.session.get_one(Submission, submission_id).status is RunState.GRADED


def test_the_live_page_and_the_api_say_which_case_a_running_run_is_in(app, claim, auth, client):
    """The worker names each case as the harness starts it; the student's page and the API
    show it while the run is running, and nothing once the heartbeat is withdrawn."""
    auth.login("alice")
    names = [spec.name for spec in run(claim.run_id).suite.config.cases]
    assert len(names) >= 2
    page = f"/submissions/{run(claim.run_id).submission_id}"
    api = f"/api/v1{page}"
    with RunHeartbeat(app.config["REDIS_URL"], claim) as beat:
        assert client.get(api).get_json()["running_case"] is None  # no case started yet
        beat.case_started(names[1])
        html = client.get(page).get_data(as_text=True)
        assert f"now in case 2 of {len(names)}: <code>{names[1]}</code>" in html
        now = client.get(api).get_json()["running_case"]
        assert now == {"name": names[1], "number": 2, "of": len(names)}
        beat.case_started("<b>not a case</b>")  # a name the suite does not have: not shown
        assert client.get(api).get_json()["running_case"] is None
        assert "not a case" not in client.get(page).get_data(as_text=True)
    assert client.get(api).get_json()["running_case"] is None
