"""Send work to the workers: the only way the web side starts a job.

Each function publishes one Celery task through this Flask app's own Celery app, after the
caller has committed the row the task will find (a run queued, a suite queued for its
self-check). A broker that does not answer is logged and reported as False: the row stays as
committed and the reconciler (webapp.jobs.reconcile) sends it again later. Task names are
explicit strings, so a task's module can move without changing what is on the queue.
"""

from __future__ import annotations

import logging

from flask import current_app
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


def send(task: str, args: list, queue: str, countdown: float | None = None) -> None:
    """Publish `task` through this Flask app's own Celery app (its broker): a process holding
    several apps (tests, tools) must not publish through whichever was made the default."""
    current_app.extensions["celery"].send_task(task, args=args, queue=queue, countdown=countdown)


def enqueue_grading(submission_id: int, queue: str, countdown: float | None = None) -> bool:
    """Send a turn on `queue` for a committed run of the submission (webapp.jobs.scheduling: the
    worker grades whichever run is next in fair order, the submission id is only a hint);
    False (logged) if the broker is down: the run stays queued in the database and the
    reconciler sends it later."""
    try:
        send("webapp.grade_submission", [submission_id], queue, countdown)
    except OperationalError:
        log.exception("could not enqueue submission %s on %s", submission_id, queue)
        return False
    return True


def enqueue_selfcheck(suite_id: int) -> bool:
    """Send selfcheck_suite for a committed suite row (cpu queue); False (logged) if the broker
    is down: the row stays queued and the reconciler sends it again once it is stale."""
    try:
        send("webapp.selfcheck_suite", [suite_id], "cpu")
    except OperationalError:
        log.exception("could not enqueue the self-check of suite %s", suite_id)
        return False
    return True


def enqueue_bank_fill() -> bool:
    """Send fill_reference_bank (cpu queue); False (logged) if the broker is down."""
    try:
        send("webapp.fill_reference_bank", [], "cpu")
    except OperationalError:
        log.exception("could not enqueue the reference bank fill")
        return False
    return True
