"""The reconciler: finds grading runs the broker or a dead worker lost and sends them again
(and does the same for suite self-checks, webapp.jobs.selfchecks.recover_stale).

A running run is lost when its heartbeat (webapp.jobs.liveness) has stopped: its worker died, or
was cut off. It goes back to the queue on the next pass (every RECONCILE_EVERY_S), so within
RUN_BEAT_TTL_S + RECONCILE_EVERY_S of the death; the attempt fence keeps a worker that was
only slow from storing a second result. When Redis cannot be read, only the time limit
(`running_limit`) applies.

Redis is only the broker: the database says what is queued or running. Run every
RECONCILE_EVERY_S (Celery beat) or by hand (`flask --app webapp reconcile`); staff re-queue
one stuck run from the operations page through the same code. Re-sending is always safe:
a message is only a turn on a queue, and a worker must claim a run before grading it
(webapp.jobs.scheduling). A re-sent run is routed again (webapp.jobs.routing): a "preferred" GPU run
waiting for a GPU worker that went away moves to cpu.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from kombu.exceptions import OperationalError
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp.extensions import db
from webapp.jobs.celery_app import QUEUES
from webapp.jobs.enqueue import enqueue_grading, enqueue_selfcheck
from webapp.jobs.lifecycle import GRADING_RUNS, move
from webapp.jobs.liveness import RUN_BEAT_TTL_S, beating
from webapp.jobs.routing import Router
from webapp.jobs.scheduling import claimable
from webapp.jobs.selfchecks import recover_stale
from webapp.models import GradingRun, RunState, utcnow

log = logging.getLogger(__name__)

QUEUED_RESEND_AFTER = timedelta(minutes=15)  # queued this long: the message may be lost
# A "preferred" run waiting on gpu this long while no GPU worker is alive moves to cpu.
STRANDED_AFTER = timedelta(minutes=1)
RUNNING_GRACE = timedelta(minutes=5)  # beyond the run's own limits before we call it dead
MAX_ATTEMPTS = 3  # claims before a run whose workers keep dying is failed
WORKER_LOST_MESSAGE = "the grading worker stopped repeatedly"


@dataclass
class ReconcileReport:
    """What one pass did; `to_send` lists (submission_id, queue) to enqueue after commit."""

    resent: list[int] = field(default_factory=list)  # run ids, stale in queued
    requeued: list[int] = field(default_factory=list)  # run ids, worker presumed dead
    failed: list[int] = field(default_factory=list)  # run ids, too many attempts
    to_send: list[tuple[int, str]] = field(default_factory=list)
    turns: dict[str, int] = field(default_factory=dict)  # queue -> turns to top up
    selfchecks_resent: list[int] = field(default_factory=list)  # suite ids, to enqueue
    selfchecks_failed: list[int] = field(default_factory=list)  # suite ids, worker gone


def running_limit(run: GradingRun) -> timedelta:
    """How long a run may stay running: twice the suite's wall limit (a cold reference cache
    runs the solution too) plus a grace period."""
    return timedelta(seconds=2 * run.suite.config.limits.wall_s) + RUNNING_GRACE


def is_stale(run: GradingRun, now: datetime) -> bool:
    """Queued so long that its task message may be lost."""
    return run.status is RunState.QUEUED and run.enqueued_at < now - QUEUED_RESEND_AFTER


def is_lost(run: GradingRun, now: datetime, beats: dict[int, int] | None = None) -> bool:
    """Running, and either its heartbeat for this attempt has stopped (`beats`: run id ->
    attempt beaten; None when unknown) or it is past its time limit: its worker is gone."""
    if run.status is not RunState.RUNNING or run.started_at is None:
        return False
    if run.started_at + running_limit(run) < now:
        return True
    unbeaten = beats is not None and beats.get(run.id) != run.attempt
    return unbeaten and run.started_at <= now - timedelta(seconds=RUN_BEAT_TTL_S)


def missing_turns(
    messages: dict[str, int | None], to_send: list[tuple[int, str]]
) -> dict[str, int]:
    """Turns to send per queue so that every claimable run has a message waiting for it
    (webapp.jobs.scheduling): its claimable runs less the messages already in the broker and the
    ones this pass is about to send. A queue whose length could not be read gets none (the
    stale re-send still covers it)."""
    turns = {}
    for queue, waiting in messages.items():
        if waiting is not None:
            sending = sum(1 for _, q in to_send if q == queue)
            turns[queue] = max(0, len(claimable(queue)) - waiting - sending)
    return {queue: n for queue, n in turns.items() if n}


def stuck_runs(now: datetime | None = None, router: Router | None = None) -> list[GradingRun]:
    """What the next pass would act on: stale queued runs, stranded ones (queued on gpu for
    a "preferred" assignment while no GPU worker is alive), then lost running ones."""
    now, router = now or utcnow(), router or Router()
    queued = _runs(RunState.QUEUED, GradingRun.enqueued_at < now - STRANDED_AFTER)
    waiting = [run for run in queued if is_stale(run, now) or is_stranded(run, router)]
    running = _runs(RunState.RUNNING, GradingRun.started_at.is_not(None))
    beats = beating(current_app.config["REDIS_URL"], [run.id for run in running])
    return waiting + [run for run in running if is_lost(run, now, beats)]


def is_stranded(run: GradingRun, router: Router) -> bool:
    """Queued where routing would no longer send it (a GPU worker went away)."""
    where = router.route(run.suite)
    return where.follows_fleet and where.queue != run.queue


def reconcile(now: datetime | None = None) -> ReconcileReport:
    """One pass over queued and running runs; commits. The caller enqueues report.to_send."""
    now = now or utcnow()
    report, router = ReconcileReport(), Router()
    for run in stuck_runs(now, router):
        if run.status is RunState.RUNNING and run.attempt >= MAX_ATTEMPTS:
            if _move(run, RunState.FAILED, message=WORKER_LOST_MESSAGE, finished_at=now):
                report.failed.append(run.id)
        else:
            send_again(run, now, report, router)
    db.session.commit()
    report.selfchecks_resent, report.selfchecks_failed = recover_stale(now)
    return report


def requeue_stuck(run_id: int, now: datetime | None = None) -> ReconcileReport:
    """Staff's re-queue of one stuck run, the reconciler's way (a lost run goes back to the
    queue even past MAX_ATTEMPTS: a person decided). Empty report: the run is not stuck."""
    now, router = now or utcnow(), Router()
    report = ReconcileReport()
    run = next((r for r in stuck_runs(now, router) if r.id == run_id), None)
    if run is not None:
        send_again(run, now, report, router)
    db.session.commit()
    return report


def send_again(run: GradingRun, now: datetime, report: ReconcileReport, router: Router) -> None:
    """Put a stuck run back to queued on the queue routing picks now, and list it to send."""
    queue = router.route(run.suite).queue
    if run.status is RunState.QUEUED:
        moved, ids = _move(run, RunState.QUEUED, enqueued_at=now, queue=queue), report.resent
    else:
        values = {"worker": None, "started_at": None, "enqueued_at": now, "queue": queue}
        moved, ids = _move(run, RunState.QUEUED, **values), report.requeued
    if moved:
        ids.append(run.id)
        report.to_send.append((run.submission_id, queue))


def _runs(status: RunState, condition: object) -> list[GradingRun]:
    query = (
        select(GradingRun)
        .where(GradingRun.status == status, condition)
        .options(joinedload(GradingRun.suite))
        .order_by(GradingRun.id)
    )
    return list(db.session.scalars(query))


def _move(run: GradingRun, status: RunState, **values: object) -> bool:
    """Set the run's status if it is still as we read it (a worker may finish meanwhile)."""
    return move(GRADING_RUNS, run.id, run.status, run.attempt, sync=False, status=status, **values)


def reconcile_and_enqueue() -> ReconcileReport:
    """Run the reconciler once, top the turns up to the claimable runs, and send what it
    found; used by beat and the CLI."""
    report = reconcile()
    report.turns = missing_turns(broker_lengths(), report.to_send)
    return send_report(report)


def broker_lengths() -> dict[str, int | None]:
    """Messages waiting in each queue of the Celery broker (not those a worker took); None
    for all when the broker does not answer."""
    try:
        with current_app.extensions["celery"].connection_for_read() as conn:
            channel = conn.default_channel
            return {name: channel.queue_declare(queue=name).message_count for name in QUEUES}
    except (OperationalError, OSError):
        log.warning("cannot read the broker's queue lengths", exc_info=True)
        return dict.fromkeys(QUEUES)


def requeue_and_enqueue(run_id: int) -> ReconcileReport:
    """Re-queue one stuck run the reconciler's way and send it; used by the operations page."""
    return send_report(requeue_stuck(run_id))


def send_report(report: ReconcileReport) -> ReconcileReport:
    """Enqueue what a reconciler pass put back to queued (after its commit)."""
    for submission_id, queue in report.to_send:
        enqueue_grading(submission_id, queue)
    for suite_id in report.selfchecks_resent:
        enqueue_selfcheck(suite_id)
    for queue, turns in report.turns.items():
        for _ in range(turns):
            enqueue_grading(0, queue)  # no hint: the worker takes the next in fair order
    return report
