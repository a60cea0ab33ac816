"""One compare-and-set for every kind of job: a move happens only while the row is still in
the status and fence its mover read, for grading runs and self-checks alike."""

from __future__ import annotations

from webapp.extensions import db
from webapp.jobs import grading
from webapp.jobs.lifecycle import GRADING_RUNS, SELFCHECKS, move
from webapp.models import (
    Assignment,
    GradingRun,
    RunState,
    SelfCheckStatus,
    Submission,
    Suite,
    utcnow,
)


def test_a_run_moves_only_under_the_fence_of_its_claim(ctx, sub_id):
    claim = grading.claim_run(sub_id, worker="w1")
    run_id = claim.run_id
    assert not move(GRADING_RUNS, run_id, RunState.RUNNING, claim.attempt + 1, message="late")
    assert not move(GRADING_RUNS, run_id, RunState.QUEUED, claim.attempt, message="stale")
    assert move(GRADING_RUNS, run_id, RunState.RUNNING, claim.attempt, status=RunState.QUEUED)
    db.session.commit()
    db.session.expire_all()
    run = db.session.get_one(GradingRun, run_id)
    assert (run.status, run.message) == (RunState.QUEUED, "")
    assert db.session.get_one(Submission, sub_id).runs[-1].id == run_id


def test_extra_conditions_hold_a_move_back(ctx, sub_id):
    run_id = db.session.get_one(Submission, sub_id).runs[-1].id
    held = move(GRADING_RUNS, run_id, RunState.QUEUED, also=[GradingRun.attempt > 5], worker="x")
    assert not held
    assert move(GRADING_RUNS, run_id, RunState.QUEUED, also=[GradingRun.attempt == 0], worker="x")


def test_a_selfcheck_moves_under_its_time_of_last_change(ctx, make):
    suite = db.session.get_one(Assignment, make.assignment("toy")).current_suite
    read_at = utcnow()
    suite.selfcheck_status, suite.selfcheck_at = SelfCheckStatus.RUNNING, read_at
    db.session.commit()
    failed = {"selfcheck_status": SelfCheckStatus.FAILED}
    assert not move(SELFCHECKS, suite.id, SelfCheckStatus.QUEUED, read_at, **failed)
    assert move(SELFCHECKS, suite.id, SelfCheckStatus.RUNNING, read_at, **failed)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get_one(Suite, suite.id).selfcheck_status is SelfCheckStatus.FAILED
