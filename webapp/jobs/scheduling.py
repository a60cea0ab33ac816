"""Whose run is graded next: fair turns between students, decided by the database.

A Celery message on a queue is a *turn* on that queue, not an order to grade one submission:
the worker that takes it claims the best claimable queued run of the queue (`claim_next`).
So the order runs are graded in, and the position a student is shown, come from one function
(`fair_order`) over the database's rows, whatever order the broker delivered messages in.

The order (lowest first):
1. fresh submissions before regrades (a staff regrade of a whole class never holds up
   deadline-night submissions);
2. the run's *turn*: how many runs its student had started in the last FAIR_WINDOW, plus how
   many of the student's queued runs of the same kind were sent before it. A student with nothing
   graded yet (turn 0) goes before another student's fifth submission (turn 4);
3. the time it was sent, then its id.

A student has at most MAX_RUNNING_PER_STUDENT runs being graded at once (0: no cap): with
stalling submissions on every assignment, one student holds one worker slot, never the pool.
A turn that finds every queued run's student at that cap claims nothing; the worker that ends
a run sends a new turn for its queue (webapp.jobs.tasks), and the reconciler tops turns up to the
number of claimable runs (webapp.jobs.reconcile), so no run waits for a message that was spent.

A retried run (the sandbox was unavailable) is put back with `enqueued_at` in the future: it
is claimable from then on (its backoff), and orders by that time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, exists, func, or_, select, text
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.jobs.lifecycle import GRADING_RUNS, move
from webapp.models import GradingRun, RunState, Submission, utcnow

FAIR_WINDOW = timedelta(hours=1)  # runs started this recently count against a student's turn
# PostgreSQL advisory lock taken by every claim (one transaction at a time decides who is
# next, so two workers cannot both give a student their one slot). SQLite serialises writers.
CLAIM_LOCK_ID = 0x646C6772  # "dlgr"


@dataclass(frozen=True)
class Waiting:
    """A queued run as the scheduler sees it."""

    run_id: int
    user_id: int
    enqueued_at: datetime
    regrade: bool = False


@dataclass
class Snapshot:
    """A queue's queued runs and, per student with one of them, the runs started in the last
    FAIR_WINDOW (running or ended since) and the runs running now."""

    waiting: list[Waiting] = field(default_factory=list)
    recent: dict[int, int] = field(default_factory=dict)
    running: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """A run this worker took: its id and the attempt number the claim gave it."""

    run_id: int
    attempt: int


def fair_order(waiting: Iterable[Waiting], recent: Mapping[int, int]) -> list[Waiting]:
    """`waiting` in the order they should be graded; `recent` is runs started per user in the
    last FAIR_WINDOW."""
    taken: dict[tuple[int, bool], int] = defaultdict(int)  # (user, regrade) -> runs before
    keyed = []
    for run in sorted(waiting, key=lambda w: (w.enqueued_at, w.run_id)):
        turn = recent.get(run.user_id, 0) + taken[run.user_id, run.regrade]
        taken[run.user_id, run.regrade] += 1
        keyed.append(((run.regrade, turn, run.enqueued_at, run.run_id), run))
    return [run for _key, run in sorted(keyed, key=lambda pair: pair[0])]


def running_cap() -> int:
    return int(current_app.config["MAX_RUNNING_PER_STUDENT"])


def queue_snapshot(queue: str, now: datetime, claimable_only: bool = False) -> Snapshot:
    """The queue's queued runs (only those claimable at `now`, when `claimable_only`) with their
    students' recent starts and running runs, read in ONE statement: one snapshot of the
    database. Two reads would let a claim committed between them count one run both as
    waiting and as started (its student's turn then one too high)."""
    earlier = aliased(GradingRun)
    regrade = exists().where(
        earlier.submission_id == GradingRun.submission_id, earlier.id < GradingRun.id
    )
    counted, theirs = aliased(GradingRun), aliased(Submission)
    started_recently = counted.started_at > now - FAIR_WINDOW
    is_running = counted.status == RunState.RUNNING
    per_student = (
        select(
            theirs.user_id.label("user_id"),
            func.sum(case((started_recently, 1), else_=0)).label("recent"),
            func.sum(case((is_running, 1), else_=0)).label("running"),
        )
        .join(theirs, theirs.id == counted.submission_id)
        .where(or_(started_recently, is_running))
        .group_by(theirs.user_id)
        .subquery()
    )
    query = (
        select(
            GradingRun.id,
            Submission.user_id,
            GradingRun.enqueued_at,
            regrade,
            func.coalesce(per_student.c.recent, 0),
            func.coalesce(per_student.c.running, 0),
        )
        .join(Submission, Submission.id == GradingRun.submission_id)
        .outerjoin(per_student, per_student.c.user_id == Submission.user_id)
        .where(GradingRun.status == RunState.QUEUED, GradingRun.queue == queue)
    )
    if claimable_only:
        query = query.where(GradingRun.enqueued_at <= now)
    snapshot = Snapshot()
    for run_id, user_id, enqueued_at, is_regrade, recent, running in db.session.execute(query):
        snapshot.waiting.append(Waiting(run_id, user_id, enqueued_at, is_regrade))
        snapshot.recent[user_id], snapshot.running[user_id] = int(recent), int(running)
    return snapshot


def claimable(queue: str, now: datetime | None = None) -> list[Waiting]:
    """The queue's claimable runs in fair order, without those whose student is at the cap."""
    cap = running_cap()
    snapshot = queue_snapshot(queue, now or utcnow(), claimable_only=True)
    order = fair_order(snapshot.waiting, snapshot.recent)
    return [run for run in order if not cap or snapshot.running[run.user_id] < cap]


def claim_next(queue: str, worker: str) -> Claim | None:
    """Atomically take the next run of `queue` in fair order; None when none may be taken."""
    now = utcnow()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": CLAIM_LOCK_ID})
    for run in claimable(queue, now):
        claim = _take(run, worker, now)
        if claim is not None:
            return claim
    db.session.rollback()  # ends the transaction (and frees the advisory lock)
    return None


def claim_submission(submission_id: int, worker: str) -> Claim | None:
    """Take a given submission's oldest queued run, whatever its turn (tests, staff tools)."""
    run_id = db.session.scalar(
        select(GradingRun.id)
        .where(GradingRun.submission_id == submission_id, GradingRun.status == RunState.QUEUED)
        .order_by(GradingRun.id)
        .limit(1)
    )
    if run_id is None:
        return None
    user_id = db.session.scalar(select(Submission.user_id).where(Submission.id == submission_id))
    return _take(Waiting(run_id, user_id, utcnow()), worker, utcnow(), capped=False)


def _take(run: Waiting, worker: str, now: datetime, capped: bool = True) -> Claim | None:
    """queued -> running for one run, if it is still queued (and, under the cap, its student
    still has a free slot: checked in the same statement, which SQLite makes atomic); commits."""
    condition = []
    cap = running_cap() if capped else 0
    if cap:
        other = aliased(GradingRun)
        mine = (
            select(func.count(other.id))
            .join(Submission, Submission.id == other.submission_id)
            .where(other.status == RunState.RUNNING, Submission.user_id == run.user_id)
            .scalar_subquery()
        )
        condition.append(mine < cap)
    claimed = move(
        GRADING_RUNS,
        run.run_id,
        RunState.QUEUED,
        also=condition,
        sync=False,
        status=RunState.RUNNING,
        attempt=GradingRun.attempt + 1,  # the claim's fence
        worker=worker[:255],
        started_at=now,
        finished_at=None,
    )
    if not claimed:
        return None
    attempt = db.session.scalar(select(GradingRun.attempt).where(GradingRun.id == run.run_id))
    db.session.commit()
    return Claim(run_id=run.run_id, attempt=attempt)


def position(run: GradingRun) -> int:
    """Runs of the run's queue that would be graded before it: ahead of it in fair order
    (the run's own backoff aside, every queued run counts)."""
    snapshot = queue_snapshot(run.queue, utcnow())
    order = fair_order(snapshot.waiting, snapshot.recent)
    ids = [waiting.run_id for waiting in order]
    return ids.index(run.id) if run.id in ids else 0  # claimed since its status was read
