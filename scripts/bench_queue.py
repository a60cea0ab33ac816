"""Benchmark the scheduler's reads on a deadline-night queue: a scratch database with 1,000
students, 6 assignments, each student's runs of the last hour (graded or running) and
--waiting queued runs spread over them, then the time of a worker's `claimable` (what a claim
reads) and of a student's `position` (what every status poll reads), and the statements each
issues.

    .venv/bin/python scripts/bench_queue.py                     # SQLite in a temp folder
    .venv/bin/python scripts/bench_queue.py --postgres          # a scratch PostgreSQL database
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.bench_gradebook import (  # noqa: E402
    PASSWORD,
    _assignments,
    analyse,
    count_queries,
    scratch_app,
    timed,
)
from tests.conftest import FAST_SCRYPT  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.jobs import scheduling  # noqa: E402
from webapp.models import Assignment, GradingRun, Role, RunState, Submission, User, utcnow  # noqa: E402


def fill(students: int, waiting: int, seed: int = 11) -> None:
    """Students with 0-3 runs started in the last hour (a few still running) and `waiting`
    queued runs, on random assignments, sent over the last ten minutes."""
    rng = random.Random(seed)
    hashed = User(username="x", display_name="x")
    hashed.set_password(PASSWORD, method=FAST_SCRYPT)
    db.session.execute(
        insert(User),
        [
            {
                "username": f"s{i:04d}",
                "display_name": f"S {i}",
                "role": Role.STUDENT,
                "password_hash": hashed.password_hash,
            }
            for i in range(students)
        ],
    )
    users = list(db.session.scalars(select(User.id)))
    suites = {a.id: a.current_suite_id for a in db.session.scalars(select(Assignment))}
    now = utcnow()
    plan = [(rng.choice(users), RunState.GRADED) for _ in range(students * 3 // 2)]
    plan += [(rng.choice(users), RunState.RUNNING) for _ in range(8)]
    plan += [(rng.choice(users), RunState.QUEUED) for _ in range(waiting)]
    for user, status in plan:
        assignment = rng.choice(list(suites))
        submission = Submission(user_id=user, assignment_id=assignment)
        db.session.add(submission)
        db.session.flush()
        sent = now - timedelta(minutes=rng.uniform(0, 10 if status is RunState.QUEUED else 60))
        started = None if status is RunState.QUEUED else sent + timedelta(seconds=1)
        db.session.add(
            GradingRun(
                submission_id=submission.id,
                suite_id=suites[assignment],
                status=status,
                enqueued_at=sent,
                started_at=started,
            )
        )
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--waiting", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres", action="store_true", help="use a scratch PostgreSQL db")
    args = parser.parse_args()
    with scratch_app(args.postgres) as app, app.app_context():
        _assignments()
        fill(args.students, args.waiting)
        analyse()
        last = db.session.scalars(
            select(GradingRun)
            .where(GradingRun.status == RunState.QUEUED)
            .order_by(GradingRun.enqueued_at.desc())
        ).first()
        print(f"{db.engine.dialect.name}: {args.students} students, {args.waiting} waiting")
        for name, call in (
            ("claimable", lambda: scheduling.claimable("cpu")),
            ("position", lambda: scheduling.position(last)),
        ):
            best, median = timed(call, args.repeat)
            statements = count_queries(call)
            print(
                f"  {name:9}  best {best * 1000:6.1f} ms  median {median * 1000:6.1f} ms"
                f"  {statements} statement(s)"
            )


if __name__ == "__main__":
    main()
