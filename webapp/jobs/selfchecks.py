"""Suite self-checks on the worker's side: claim a queued check, run grader.selfcheck in
Docker, record the report (a passed check with a wish to publish goes live), and recover
checks whose worker or message was lost. The CLI runs the same in-process (check_now)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from grader import Package, SelfCheckReport, fresh_seeds, run_selfcheck
from webapp.extensions import db
from webapp.jobs.lifecycle import ANY, SELFCHECKS, move
from webapp.jobs.sandboxes import docker_sandbox
from webapp.models import SelfCheckStatus, Suite, utcnow
from webapp.selfcheck import STALE_AFTER
from webapp.suites import go_live, is_newest_live_candidate

log = logging.getLogger(__name__)

INTERNAL_ERROR = "the self-check stopped on an internal error (see the worker's log)"
WORKER_LOST = "the worker running the self-check stopped before it finished; run it again"


def claim_selfcheck(suite_id: int) -> datetime | None:
    """Atomically move a queued check to running; the claim's fence (the time it wrote) when
    this worker took it, None when another did."""
    fence = utcnow()
    claimed = move(
        SELFCHECKS,
        suite_id,
        SelfCheckStatus.QUEUED,
        selfcheck_status=SelfCheckStatus.RUNNING,
        selfcheck_at=fence,
    )
    db.session.commit()
    return fence if claimed else None


def run_check(suite_id: int, image: str, seeds: Sequence[int] | None = None) -> SelfCheckReport:
    """Run the self-check of one stored suite version in Docker on `seeds` (default:
    SELFCHECK_SEEDS fresh ones; minutes; no transaction stays open meanwhile)."""

    suite = db.session.get_one(Suite, suite_id)
    package = suite.package()
    db.session.commit()  # end the read transaction before the long run
    sandbox = docker_sandbox(image)
    try:
        return run_selfcheck(package, sandbox, seeds=seeds or configured_seeds())
    finally:
        sandbox.close()


def configured_seeds() -> tuple[int, ...]:
    """SELFCHECK_SEEDS fresh seeds."""
    return fresh_seeds(current_app.config["SELFCHECK_SEEDS"])


def check_package(
    package: Package, image: str, seeds: Sequence[int] | None = None
) -> SelfCheckReport:
    """Self-check a package that is not stored (a folder or zip) on `seeds` (default:
    SELFCHECK_SEEDS fresh ones); nothing is written to the database."""

    sandbox = docker_sandbox(image)
    try:
        return run_selfcheck(package, sandbox, seeds=seeds or configured_seeds())
    finally:
        sandbox.close()


def record_selfcheck(suite_id: int, report: SelfCheckReport, fence: object = ANY) -> Suite | None:
    """Store the report and its verdict; a passed check with a wish to publish goes live
    (unless a newer version is current by now). A failed one is never published. With the
    `fence` of a worker's claim, only while that claim holds: a check the reconciler has
    since recorded as lost keeps that record, and None is returned."""
    if fence is not ANY and not move(
        SELFCHECKS, suite_id, SelfCheckStatus.RUNNING, fence, selfcheck_at=fence
    ):  # the same values: the row is ours until the commit below
        db.session.rollback()
        log.warning("suite %s: the self-check's claim was lost; its report is dropped", suite_id)
        return None
    suite = db.session.get_one(Suite, suite_id)
    passed = report.passed
    suite.selfcheck_status = SelfCheckStatus.PASSED if passed else SelfCheckStatus.FAILED
    suite.selfcheck_report = report.to_dict()
    suite.selfcheck_at = utcnow()
    if passed and suite.publish_when_checked and is_newest_live_candidate(suite):
        go_live(suite)
    suite.publish_when_checked = False
    db.session.commit()
    return suite


def error_report(suite: Suite, error: str) -> SelfCheckReport:
    """A report that says the check could not complete."""
    return SelfCheckReport(suite.assignment.slug, suite.sha256, suite.max_score, error=error)


def run_queued(suite_id: int, image: str) -> str:
    """The Celery task's body: claim, run, record under the claim; the row is never left
    running."""
    fence = claim_selfcheck(suite_id)
    if fence is None:
        return "nothing to claim"
    try:
        report = run_check(suite_id, image)
    except Exception:
        log.exception("suite %s: the self-check raised", suite_id)
        db.session.rollback()
        report = error_report(db.session.get_one(Suite, suite_id), INTERNAL_ERROR)
    recorded = record_selfcheck(suite_id, report, fence)
    return recorded.selfcheck_status.value if recorded is not None else "claim lost"


def check_now(suite: Suite, image: str, seeds: Sequence[int] | None = None) -> SelfCheckReport:
    """Run the suite's self-check in this process (the CLI) and record it like the task does."""
    suite.selfcheck_status = SelfCheckStatus.RUNNING
    suite.selfcheck_at = utcnow()
    db.session.commit()
    try:
        report = run_check(suite.id, image, seeds)
    except Exception:
        db.session.rollback()
        record_selfcheck(suite.id, error_report(suite, INTERNAL_ERROR))
        raise
    record_selfcheck(suite.id, report)
    return report


def recover_stale(now: datetime | None = None) -> tuple[list[int], list[int]]:
    """The reconciler's part for self-checks; commits. A check queued past STALE_AFTER was
    lost by the broker: it is queued afresh (returned first, to enqueue after the commit). A
    check running past it outlived the task's hard limit, so its worker is gone: it is
    recorded as failed with a message saying so (and never published). Each row changes only
    if it is still as read, so a worker finishing meanwhile wins."""
    now = now or utcnow()
    stale = db.session.scalars(
        select(Suite)
        .where(
            Suite.selfcheck_status.in_([SelfCheckStatus.QUEUED, SelfCheckStatus.RUNNING]),
            Suite.selfcheck_at < now - STALE_AFTER,
        )
        .order_by(Suite.id)
    ).all()
    resend, failed = [], []
    for suite in stale:
        status, checked_at = suite.selfcheck_status, suite.selfcheck_at
        if status is SelfCheckStatus.QUEUED:
            values, ids = {"selfcheck_at": now}, resend
        else:
            report = error_report(suite, WORKER_LOST).to_dict()
            values = {
                "selfcheck_status": SelfCheckStatus.FAILED,
                "selfcheck_report": report,
                "selfcheck_at": now,
                "publish_when_checked": False,
            }
            ids = failed
        if move(SELFCHECKS, suite.id, status, checked_at, sync=False, **values):
            ids.append(suite.id)
    db.session.commit()
    return resend, failed
