"""One lifecycle for every kind of job the workers run: grading runs and suite self-checks.

    queued --claim--> running --finish--> graded / passed / failed
      ^                  |
      +---- requeue -----+     a worker that died or lost its sandbox: back to the queue
    recover: queued or running too long without a sign of life -> sent again, or failed

Every move is one compare-and-set on the job's row (`move`): it happens only while the row is
still in the state the mover read, its status and its fence, a column every claim changes
(a run's attempt number, a self-check's time of last change). So two workers cannot both
claim a job, and a worker that was only slow cannot store a result over the reconciler's
requeue (its fence no longer matches). A kind of job names the columns that hold its state
(`JobKind`); claiming, finishing, requeueing and recovering are the same code for every kind,
so a third kind (a similarity report, a leaderboard scoring) declares its columns and reuses
them. Who decides *which* job is next (fair turns: webapp.jobs.scheduling) and *when* one is
lost (heartbeats: webapp.jobs.reconcile, webapp.jobs.selfchecks.recover_stale) stays with
each kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update

from webapp.extensions import db
from webapp.models import GradingRun, Suite


@dataclass(frozen=True)
class JobKind:
    """Where a kind of job keeps its state: the table, the status column, the fence column."""

    model: Any
    status: Any
    fence: Any


GRADING_RUNS = JobKind(GradingRun, GradingRun.status, GradingRun.attempt)
SELFCHECKS = JobKind(Suite, Suite.selfcheck_status, Suite.selfcheck_at)
ANY = object()  # a fence not checked (a queued job's claim: whoever comes first takes it)


def move(
    kind: JobKind,
    job_id: int,
    was: object,
    fence: object = ANY,
    /,
    *,
    also: Iterable[object] = (),
    sync: bool | str = "auto",
    **values: object,
) -> bool:
    """Set `values` (the new status among them) on the job if it is still in status `was`
    with `fence` (and the extra conditions `also` hold); True when it was. Does not commit."""
    condition = [kind.model.id == job_id, kind.status == was, *also]
    if fence is not ANY:
        condition.append(kind.fence == fence)
    moved = db.session.execute(
        update(kind.model)
        .where(*condition)
        .values(**values)
        .execution_options(synchronize_session=sync)
    )
    return moved.rowcount == 1
