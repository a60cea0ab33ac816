"""The grader's ReferenceBank on the reference_bank table (shared by all workers), and the
idle-time work that fills it.

Each row is one draw (inputs seed and secret) with the solution's outputs for it. `take`
deletes the row it returns in the same transaction (on PostgreSQL under FOR UPDATE SKIP
LOCKED, so concurrent takers never wait for or share a row), so a draw grades one run.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, func, insert, select

from grader import bank_key, fill_bank
from webapp.extensions import db
from webapp.models import Assignment, GradingRun, ReferenceEntry, RunState, Suite, utcnow

log = logging.getLogger(__name__)

TAKE_ATTEMPTS = 5  # SQLite has no row locks: a row another worker deleted meanwhile is retried


class DatabaseReferenceBank:
    """take(key) -> bytes | None and add(key, data): the grader.reference.ReferenceBank protocol.

    Uses its own short transactions on the engine, never the ORM session, so an entry is gone
    (or kept) whatever happens to the grading run's own transaction.
    """

    def take(self, key: str) -> bytes | None:
        for _ in range(TAKE_ATTEMPTS):
            with db.engine.begin() as conn:
                query = (
                    select(ReferenceEntry.id)
                    .where(ReferenceEntry.key == key)
                    .order_by(ReferenceEntry.id)
                    .limit(1)
                )
                if conn.dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                row_id = conn.execute(query).scalar()
                if row_id is None:
                    return None
                taken = conn.execute(
                    delete(ReferenceEntry)
                    .where(ReferenceEntry.id == row_id)
                    .returning(ReferenceEntry.data)
                ).scalar()
                if taken is not None:
                    return taken
        return None

    def add(self, key: str, data: bytes) -> None:
        with db.engine.begin() as conn:
            conn.execute(insert(ReferenceEntry).values(key=key, data=data, created_at=utcnow()))

    def size(self, key: str) -> int:
        with db.engine.connect() as conn:
            query = select(func.count()).select_from(ReferenceEntry)
            return conn.execute(query.where(ReferenceEntry.key == key)).scalar_one()


def queue_is_idle() -> bool:
    """No grading run is waiting: references may be computed without slowing a student."""
    waiting = select(func.count()).where(GradingRun.status == RunState.QUEUED)
    return db.session.scalar(waiting) == 0


def suites_to_fill() -> list[int]:
    """Ids of the suite versions students are graded on now (published assignments)."""
    query = select(Assignment.current_suite_id).where(
        Assignment.published.is_(True), Assignment.current_suite_id.is_not(None)
    )
    return [int(i) for i in db.session.scalars(query)]


def fill_while_idle(target: int, sandbox, budget: int) -> int:
    """Top up the bank of every published suite (CPU device) to `target` entries, one entry
    at a time and only while no grading run waits; at most `budget` entries. How many added."""
    bank = DatabaseReferenceBank()
    added = 0
    for suite_id in suites_to_fill():
        package = db.session.get_one(Suite, suite_id).package()
        db.session.commit()  # no transaction stays open during a sandbox run
        key = bank_key(package.sha256, "cpu")
        while added < budget and bank.size(key) < target and queue_is_idle():
            db.session.commit()
            try:
                fill_bank(package, sandbox, bank)
            except Exception:  # a broken suite or sandbox: runs will say so; try the next suite
                log.exception("could not precompute a reference for suite %s", suite_id)
                break
            added += 1
    db.session.commit()
    return added
