"""What the operations page shows: live workers, queue lengths, running, failed and stuck runs,
and the submissions whose latest run failed (what the gradebook does with their score).

Workers come from their heartbeats (webapp.jobs.fleet), queue lengths from the broker (the Celery
Redis transport keeps each queue as a list, plus one list per priority level), runs from the
database; stuck runs are what the reconciler would act on (webapp.jobs.reconcile.stuck_runs).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from webapp.extensions import db
from webapp.gradebook.service import FailedLatest, failed_latest
from webapp.jobs.celery_app import QUEUES
from webapp.jobs.fleet import WorkerInfo, fleet, redis_client
from webapp.jobs.reconcile import is_lost, is_stale, stuck_runs
from webapp.logtext import LogPiece, failure_log
from webapp.models import Assignment, GradingRun, RunState, Submission, utcnow

PRIORITY_SEPARATOR = "\x06\x16"  # kombu's Redis transport: "<queue>\x06\x16<priority>"
PRIORITY_LEVELS = (3, 6, 9)  # level 0 is the plain queue name
RUNNING_SHOWN = 100
FAILURES_SHOWN = 20
FAILED_SUBMISSIONS_SHOWN = 100
PHASE_WINDOW = timedelta(hours=1)  # the phase summary covers runs finished this recently
PHASE_RUNS_READ = 5000  # at most this many of them (the latest)
# A run's phases in the order they happen (webapp.jobs.grading.store_result, grader.engine.timings).
PHASES = (
    ("queue_wait", "queue wait"),
    ("acquire", "sandbox acquire"),
    ("ready", "harness ready"),
    ("cases", "cases"),
    ("reference", "reference"),
    ("scoring", "scoring"),
    ("store", "store"),
    ("total", "total (grader)"),
)


@dataclass(frozen=True)
class PhaseSummary:
    """One assignment's runs finished in the window: how many, and p50/p95 per phase."""

    slug: str
    runs: int
    p50: dict[str, float]
    p95: dict[str, float]


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of non-empty `values`."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summarise_phases(rows: Iterable[tuple[str, Mapping]]) -> list[PhaseSummary]:
    """(slug, timings) of finished runs -> per slug, p50 and p95 of each phase some run has."""
    by_slug: dict[str, list[Mapping]] = {}
    for slug, times in rows:
        if isinstance(times, Mapping):
            by_slug.setdefault(slug, []).append(times)
    summaries = []
    for slug, runs in sorted(by_slug.items()):
        p50, p95 = {}, {}
        for key, _label in PHASES:
            values = [float(t[key]) for t in runs if isinstance(t.get(key), int | float)]
            if values:
                p50[key], p95[key] = percentile(values, 0.5), percentile(values, 0.95)
        summaries.append(PhaseSummary(slug, len(runs), p50, p95))
    return summaries


def phase_summary(now: datetime) -> list[PhaseSummary]:
    """The phases of the graded runs finished in the last PHASE_WINDOW, per assignment."""
    rows = db.session.execute(
        select(Assignment.slug, GradingRun.timings)
        .join(Submission, Submission.id == GradingRun.submission_id)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(GradingRun.status == RunState.GRADED, GradingRun.finished_at >= now - PHASE_WINDOW)
        .order_by(GradingRun.finished_at.desc())
        .limit(PHASE_RUNS_READ)
    ).all()
    return summarise_phases(rows)


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
    phases: list[PhaseSummary] = field(default_factory=list)
    now: datetime = field(default_factory=utcnow)
    phase_names: tuple[tuple[str, str], ...] = PHASES

    def workers_on(self, queue: str) -> int:
        return sum(w.consumes(queue) for w in self.workers)

    def failure_log(self, run: GradingRun) -> list[LogPiece]:
        """The end of a failed run's log, repeats collapsed, for staff (empty when none)."""
        return failure_log(run.log_tail or "")


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
        elif run.status is RunState.RUNNING:
            reason = f"running on {run.worker}, whose heartbeat for this run stopped"
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
        phases=phase_summary(now),
        now=now,
    )
