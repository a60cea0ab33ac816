"""Suite self-checks on the web side: ask for one, read its report, and let a version go live
only after it passed. Running, recording and recovering checks is the worker's side
(webapp.jobs.selfchecks).

The Suite row owns the state (selfcheck_status, selfcheck_report, selfcheck_at and the wish
publish_when_checked); the Celery task takes the suite id, claims the row, runs
grader.selfcheck through the real grader and records the report.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from grader import SelfCheckReport
from webapp.extensions import db
from webapp.jobs.celery_app import TASK_HARD_LIMIT_S
from webapp.jobs.enqueue import enqueue_selfcheck
from webapp.models import SelfCheckStatus, Suite, utcnow
from webapp.suites import go_live

# A check queued or running for longer than the task's hard limit was lost (broker or worker
# died): the reconciler sends it again or records it as failed (recover_stale), and staff
# may start it again.
STALE_AFTER = timedelta(seconds=TASK_HARD_LIMIT_S + 600)


class PublishOutcome(enum.StrEnum):
    LIVE = "live"  # the version had passed its self-check: it is current and published now
    CHECKING = "checking"  # its self-check runs first; it goes live only if that passes


def report_of(suite: Suite) -> SelfCheckReport | None:
    """The suite's last self-check report, if it has one."""
    raw = suite.selfcheck_report
    return SelfCheckReport.from_dict(raw) if raw else None


def in_flight(suite: Suite, now: datetime | None = None) -> bool:
    """Whether a check of `suite` is queued or running and not yet given up as lost."""
    if not suite.selfcheck_status.in_flight or suite.selfcheck_at is None:
        return False
    return (now or utcnow()) - suite.selfcheck_at < STALE_AFTER


def request_selfcheck(suite: Suite, publish: bool = False) -> bool:
    """Queue the suite's self-check (commit, then enqueue on the cpu queue). With `publish`
    the version goes live when the check passes. False when a check is already in flight (the
    wish to publish is recorded all the same)."""
    if publish:
        suite.publish_when_checked = True
    if in_flight(suite):
        db.session.commit()
        return False
    suite.selfcheck_status = SelfCheckStatus.QUEUED
    suite.selfcheck_at = utcnow()
    db.session.commit()
    enqueue_selfcheck(suite.id)  # only after commit: the worker must find the row queued
    return True


def request_publish(suite: Suite) -> PublishOutcome:
    """Publish `suite` (make it current, publish its assignment) if it passed its self-check;
    else queue the check, which publishes it only if it passes."""
    if suite.selfcheck_status is SelfCheckStatus.PASSED:
        go_live(suite)
        suite.publish_when_checked = False
        db.session.commit()
        return PublishOutcome.LIVE
    request_selfcheck(suite, publish=True)
    return PublishOutcome.CHECKING
