"""Grading runs as plain functions: claim a queued run, grade it, store how it ended.

The Celery task (webapp.jobs.tasks) is thin glue around these. Every write that ends a run is
conditional on the run still being `running` with the attempt number we claimed, so a
worker that lost its claim (the reconciler gave the run to another) cannot overwrite it.
"""

from __future__ import annotations

import enum
import logging
import math
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from grader import (
    VISIBILITIES,
    CaseOutcome,
    CaseStatus,
    GradingJob,
    GradingResult,
    RunStatus,
    SandboxError,
    SuiteError,
)
from webapp.extensions import db
from webapp.jobs.lifecycle import GRADING_RUNS, move
from webapp.jobs.routing import route
from webapp.jobs.scheduling import Claim, claim_submission
from webapp.models import CaseResult, GradingRun, RunState, utcnow

log = logging.getLogger(__name__)

MESSAGE_MAX_CHARS = 2000
LOG_TAIL_MAX_CHARS = 64 * 1024  # the sandboxes' own log, for staff
DETAIL_MAX_CHARS = 2000  # a case's exception text and where it was raised
OUTPUT_MAX_CHARS = 16 * 1024  # what one case printed (its tail)
SANDBOX_DOWN_MESSAGE = (
    "Grading could not start: the grading sandbox is unavailable. Staff have been told."
)
SUITE_BROKEN_MESSAGE = (
    "Grading could not run: the assignment's test suite is broken. Staff have been told."
)
INTERNAL_ERROR_MESSAGE = "Grading stopped on an internal error. Staff have been told."

SANDBOX_RETRIES = 4  # re-queues after a SandboxError before the run is failed
SANDBOX_RETRY_BASE_S = 30  # backoff: 30 s, 60 s, 120 s, 240 s

GradeFn = Callable[[GradingJob], GradingResult]


class Outcome(enum.StrEnum):
    STORED = "stored"  # the result is in the database
    STALE = "stale"  # the claim was lost meanwhile; the result was dropped
    RETRY = "retry"  # put back to queued; the caller re-sends it later
    FAILED = "failed"  # ended as failed with a message


def clean_text(text: str, limit: int) -> str:
    """Text safe for any database: no NUL (PostgreSQL refuses it), at most `limit` chars (tail)."""
    text = text.replace("\x00", "\ufffd")
    return text if len(text) <= limit else text[-limit:]


def claim_run(submission_id: int, worker: str) -> Claim | None:
    """Atomically take the submission's oldest queued run; None when another worker has it or
    nothing is queued. Workers take runs in fair order instead (webapp.jobs.scheduling.claim_next);
    this is for tests and tools that must grade one given submission."""
    return claim_submission(submission_id, worker)


def build_job(
    claim: Claim, gpu_device: str | None = None, on_case: Callable[[str], None] | None = None
) -> GradingJob:
    """The grader's input for a claimed run: the submission's files, the run's suite and, for
    suites that use a GPU, the device this worker grades on. The grader draws the run's
    inputs itself (fresh for every run); `on_case` hears each case's name as it starts."""
    run = db.session.get_one(GradingRun, claim.run_id)
    files = {f.name: f.content for f in run.submission.files}
    package = run.suite.package()
    device = gpu_device if route(package.config.gpu).uses_gpu else None
    return GradingJob(files=files, package=package, gpu_device=device, on_case=on_case)


def _finish(claim: Claim, **values: object) -> bool:
    """Apply `values` to the run if our claim still holds; True when it did."""
    return move(GRADING_RUNS, claim.run_id, RunState.RUNNING, claim.attempt, **values)


def store_result(claim: Claim, result: GradingResult) -> bool:
    """Store a GradingResult (cases, score, log, timings); False if the claim was lost. The
    grader's phase timings are kept with the run, with the worker's own: queue_wait (sent to
    claimed) and store (this function up to its commit)."""
    began = time.monotonic()
    graded = result.status is RunStatus.GRADED
    times = {k: float(v) for k, v in result.timings.items() if math.isfinite(v)}
    times.update(queue_wait(claim.run_id))
    ok = _finish(
        claim,
        status=RunState.GRADED if graded else RunState.FAILED,
        score=result.score if graded else None,
        max_score=result.max_score,
        message=clean_text(result.message, MESSAGE_MAX_CHARS),
        log_tail=clean_text(result.log, LOG_TAIL_MAX_CHARS),
        finished_at=utcnow(),
    )
    if not ok:
        db.session.rollback()
        log.warning("run %s: claim %s lost, result dropped", claim.run_id, claim.attempt)
        return False
    db.session.add_all(_case_row(claim.run_id, case) for case in result.cases)
    db.session.flush()
    times["store"] = round(time.monotonic() - began, 4)
    db.session.execute(
        update(GradingRun).where(GradingRun.id == claim.run_id).values(timings=times)
    )
    db.session.commit()
    return True


def queue_wait(run_id: int) -> dict[str, float]:
    """{"queue_wait": seconds from the run's last sending to its claim}, when both are known
    (a retried run waits out its backoff too: that counts)."""
    sent, claimed = db.session.execute(
        select(GradingRun.enqueued_at, GradingRun.started_at).where(GradingRun.id == run_id)
    ).one()
    if sent is None or claimed is None:
        return {}
    return {"queue_wait": round(max(0.0, (claimed - sent).total_seconds()), 4)}


def _case_row(run_id: int, case: CaseOutcome) -> CaseResult:
    """The row of one case; its visibility travels with it (pages decide what to show)."""
    return CaseResult(
        run_id=run_id,
        name=case.name,
        points=float(case.points),
        max_points=float(case.max_points),
        status=CaseStatus(case.status).value,
        feedback=clean_text(case.feedback, MESSAGE_MAX_CHARS),
        seconds=case.seconds,
        detail=clean_text(case.detail, DETAIL_MAX_CHARS),
        output=clean_text(case.output, OUTPUT_MAX_CHARS),
        visibility=case.visibility if case.visibility in VISIBILITIES else "hidden",
    )


def fail_run(claim: Claim, message: str) -> bool:
    """End a claimed run as failed with a message for the student."""
    db.session.rollback()  # whatever the failure left in the session is not ours to keep
    ok = _finish(
        claim,
        status=RunState.FAILED,
        message=clean_text(message, MESSAGE_MAX_CHARS),
        finished_at=utcnow(),
    )
    db.session.commit()
    return ok


def retry_delay_s(attempt: int) -> float:
    """The backoff before a run whose sandbox was unavailable may be claimed again: 30 s after
    its first attempt, then 60, 120, 240 s."""
    return SANDBOX_RETRY_BASE_S * 2 ** max(0, attempt - 1)


def may_retry(claim: Claim) -> bool:
    """Whether a sandbox failure on this attempt puts the run back (SANDBOX_RETRIES re-sends)."""
    return claim.attempt <= SANDBOX_RETRIES


def requeue_run(claim: Claim, delay_s: float = 0.0) -> bool:
    """Put a claimed run back to queued, claimable again after `delay_s` (its enqueued_at is
    then in the future); its attempt count stays, for the retry and reconciler caps."""
    db.session.rollback()
    available = utcnow() + timedelta(seconds=delay_s)
    ok = _finish(claim, status=RunState.QUEUED, worker=None, started_at=None, enqueued_at=available)
    db.session.commit()
    return ok


def grade_claimed(
    claim: Claim,
    grade: GradeFn,
    gpu_device: str | None = None,
    on_case: Callable[[str], None] | None = None,
) -> Outcome:
    """Grade a claimed run with `grade` and record how it ended; the run is never left running.

    Sandbox (infrastructure) errors put it back to queued, claimable after its backoff, while
    `may_retry(claim)`, else fail it; a broken suite or any other exception fails it.
    """
    try:
        result = grade(build_job(claim, gpu_device, on_case))
    except SandboxError:
        log.exception("run %s: sandbox unavailable", claim.run_id)
        if may_retry(claim):
            requeue_run(claim, retry_delay_s(claim.attempt))
            return Outcome.RETRY
        fail_run(claim, SANDBOX_DOWN_MESSAGE)
        return Outcome.FAILED
    except SuiteError:
        log.exception("run %s: the reference solution fails its own suite", claim.run_id)
        fail_run(claim, SUITE_BROKEN_MESSAGE)
        return Outcome.FAILED
    except Exception:
        log.exception("run %s: grading raised", claim.run_id)
        fail_run(claim, INTERNAL_ERROR_MESSAGE)
        return Outcome.FAILED
    return Outcome.STORED if store_result(claim, result) else Outcome.STALE
