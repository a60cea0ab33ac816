"""What the operations page shows: live workers, queue lengths, running, failed and stuck runs,
and the submissions whose latest run failed (what the gradebook does with their score).

Workers come from their heartbeats (webapp.fleet), queue lengths from the broker (the Celery
Redis transport keeps each queue as a list, plus one list per priority level), runs from the
database; stuck runs are what the reconciler would act on (webapp.reconcile.stuck_runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import redis
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from webapp.celery_app import QUEUES
from webapp.extensions import db
from webapp.fleet import WorkerInfo, fleet, redis_client
from webapp.gradebook.service import FailedLatest, failed_latest
from webapp.models import GradingRun, RunState, Submission, utcnow
from webapp.reconcile import is_lost, is_stale, stuck_runs

PRIORITY_SEPARATOR = "\x06\x16"  # kombu's Redis transport: "<queue>\x06\x16<priority>"
PRIORITY_LEVELS = (3, 6, 9)  # level 0 is the plain queue name
RUNNING_SHOWN = 100
FAILURES_SHOWN = 20
FAILED_SUBMISSIONS_SHOWN = 100


@dataclass
class StuckRun:
    """A run the reconciler would send again, and why."""

    run: GradingRun
    reason: str


@dataclass
class Operations:
    """Everything on the operations page; None for what Redis could not tell."""

    workers: list[WorkerInfo]
    queue_lengths: dict[str, int | None]  # messages in the broker
    queued_runs: dict[str, int]  # runs queued in the database
    running: list[GradingRun]
    failures: list[GradingRun]
    stuck: list[StuckRun]
    failed_submissions: list[FailedLatest] = field(default_factory=list)
    now: datetime = field(default_factory=utcnow)

    def workers_on(self, queue: str) -> int:
        return sum(w.consumes(queue) for w in self.workers)


def queue_lengths(url: str) -> dict[str, int | None]:
    """Messages waiting in each Celery queue (not counting ones a worker already took)."""
    client = redis_client(url)
    try:
        pipe = client.pipeline(transaction=False)
        for queue in QUEUES:
            for key in [queue] + [f"{queue}{PRIORITY_SEPARATOR}{p}" for p in PRIORITY_LEVELS]:
                pipe.llen(key)
        counts = pipe.execute()
    except redis.RedisError:
        return dict.fromkeys(QUEUES)
    finally:
        client.close()
    per_queue = 1 + len(PRIORITY_LEVELS)
    return {q: sum(counts[i * per_queue : (i + 1) * per_queue]) for i, q in enumerate(QUEUES)}


def queued_runs() -> dict[str, int]:
    """Runs queued in the database, per queue (what the broker should hold, give or take)."""
    counts = db.session.execute(
        select(GradingRun.queue, func.count(GradingRun.id))
        .where(GradingRun.status == RunState.QUEUED)
        .group_by(GradingRun.queue)
    ).all()
    return {**dict.fromkeys(QUEUES, 0), **{queue: int(n) for queue, n in counts}}


def _runs(status: RunState, order: object, limit: int) -> list[GradingRun]:
    query = (
        select(GradingRun)
        .where(GradingRun.status == status)
        .order_by(order)
        .limit(limit)
        .options(
            joinedload(GradingRun.submission).joinedload(Submission.user),
            joinedload(GradingRun.submission).joinedload(Submission.assignment),
        )
    )
    return list(db.session.scalars(query))


def stuck(now: datetime) -> list[StuckRun]:
    """Stale queued and lost running runs, each with the reason in words."""
    rows = []
    for run in stuck_runs(now):
        if is_lost(run, now):
            reason = f"running since {run.started_at:%H:%M} UTC on {run.worker}, past its limit"
        elif is_stale(run, now):
            reason = f"queued since {run.enqueued_at:%H:%M} UTC and not taken"
        else:
            reason = "on the gpu queue with no GPU worker online; a CPU worker may take it"
        rows.append(StuckRun(run, reason))
    return rows


def failed_submissions(limit: int = FAILED_SUBMISSIONS_SHOWN) -> list[FailedLatest]:
    """Submissions whose latest ended run failed, most recent failure first, each with what
    the course's FAILED_RUN_POLICY makes of its score."""
    latest = (
        select(GradingRun.submission_id, func.max(GradingRun.id).label("run_id"))
        .where(GradingRun.status.in_(RunState.finals()))
        .group_by(GradingRun.submission_id)
        .subquery()
    )
    query = (
        select(Submission)
        .join(latest, latest.c.submission_id == Submission.id)
        .join(GradingRun, GradingRun.id == latest.c.run_id)
        .where(GradingRun.status == RunState.FAILED)
        .order_by(GradingRun.finished_at.desc(), GradingRun.id.desc())
        .limit(limit)
        .options(
            selectinload(Submission.runs),
            joinedload(Submission.user),
            joinedload(Submission.assignment),
        )
    )
    found = (failed_latest(s) for s in db.session.scalars(query))
    return [f for f in found if f is not None]


def snapshot() -> Operations:
    """The operations page's data, read now."""
    now = utcnow()
    return Operations(
        workers=fleet(),
        queue_lengths=queue_lengths(current_app.config["REDIS_URL"]),
        queued_runs=queued_runs(),
        running=_runs(RunState.RUNNING, GradingRun.started_at, RUNNING_SHOWN),
        failures=_runs(RunState.FAILED, GradingRun.finished_at.desc(), FAILURES_SHOWN),
        stuck=stuck(now),
        failed_submissions=failed_submissions(),
        now=now,
    )
