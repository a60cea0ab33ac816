"""Benchmark the staff gradebook page: fill a scratch database with 1,000 students x 12 items
(6 autograded assignments with several submissions and regrades each, 6 typed-in items) and
time GET /gradebook, the CSV export and the API, plus the computation alone and its queries.

    .venv/bin/python scripts/bench_gradebook.py                 # SQLite in a temp folder
    .venv/bin/python scripts/bench_gradebook.py --postgres      # a scratch PostgreSQL database
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import event, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import FAST_SCRYPT, app_settings, scratch_postgres  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.gradebook.service import compute_gradebook  # noqa: E402
from webapp.models import (  # noqa: E402
    Assignment,
    Category,
    GradeItem,
    GradingRun,
    ManualScore,
    Role,
    RunState,
    ScoringPolicy,
    Submission,
    Suite,
    User,
)

AUTOGRADED = 6
MANUAL = ("written1", "written2", "written3", "written4", "project", "final")
DUE = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
PASSWORD = "bench-password"


def fill(students: int, seed: int = 7) -> None:
    """Insert the scheme, students, submissions with 1-2 graded runs each, and manual scores."""
    rng = random.Random(seed)
    staff = User(username="ta", display_name="TA", role=Role.TA)
    staff.set_password(PASSWORD, method=FAST_SCRYPT)
    db.session.add(staff)
    assignment_ids = _assignments()
    item_ids = _scheme(assignment_ids)
    db.session.execute(
        insert(User),
        [
            {
                "username": f"s{i:04d}",
                "display_name": f"Student {i:04d}",
                "role": Role.STUDENT,
                "password_hash": staff.password_hash,
            }
            for i in range(students)
        ],
    )
    user_ids = [u.id for u in db.session.scalars(db.select(User).where(User.role == Role.STUDENT))]
    _submissions(rng, user_ids, assignment_ids)
    db.session.execute(
        insert(ManualScore),
        [
            {"item_id": item, "user_id": user, "score": round(rng.uniform(0, 100), 1)}
            for user in user_ids
            for item in item_ids
            if rng.random() < 0.9
        ],
    )
    db.session.commit()


def _assignments() -> list[int]:
    ids = []
    for n in range(AUTOGRADED):
        assignment = Assignment(slug=f"prog{n + 1}", title=f"Programming {n + 1}", deadline=DUE)
        assignment.current_suite = Suite(
            assignment=assignment,
            version=1,
            package_zip=b"",
            sha256="0" * 64,
            seed=1,
            config_toml="",
            max_score=10.0,
        )
        db.session.add(assignment)
        db.session.flush()
        ids.append(assignment.id)
        rule = ("last", "best", "active")[n % 3]
        db.session.add(
            ScoringPolicy(
                assignment_id=assignment.id, count_rule=rule, grace_minutes=15, penalty_per_day=0.1
            )
        )
    return ids


def _scheme(assignment_ids: list[int]) -> list[int]:
    """Programming 30 (best 4 of 6), written 30 (best 3 of 4), project 20, final 20."""
    prog = Category(name="Programming", weight=30, best_n=4, position=0)
    prog.items = [
        GradeItem(key=f"prog{i + 1}", title=f"Programming {i + 1}", assignment_id=a, position=i)
        for i, a in enumerate(assignment_ids)
    ]
    written = Category(name="Written exams", weight=30, best_n=3, position=1)
    written.items = [
        GradeItem(key=k, title=k, max_score=100, position=i) for i, k in enumerate(MANUAL[:4])
    ]
    project = Category(name="Project", weight=20, position=2)
    project.items = [GradeItem(key="project", title="Project", max_score=100)]
    final = Category(name="Final", weight=20, position=3)
    final.items = [GradeItem(key="final", title="Final", max_score=100)]
    db.session.add_all([prog, written, project, final])
    db.session.flush()
    return [i.id for c in (written, project, final) for i in c.items]


def _submissions(rng: random.Random, user_ids: list[int], assignment_ids: list[int]) -> None:
    suite_ids = {a.id: a.current_suite_id for a in db.session.scalars(db.select(Assignment))}
    rows = []
    for user in user_ids:
        for assignment in assignment_ids:
            for _ in range(rng.choice((0, 1, 2, 3, 3, 4))):
                when = DUE + timedelta(hours=rng.uniform(-96, 30))
                rows.append({"user_id": user, "assignment_id": assignment, "created_at": when})
    db.session.execute(insert(Submission), rows)
    runs = []
    for sub_id, assignment in db.session.execute(
        db.select(Submission.id, Submission.assignment_id)
    ):
        for _ in range(1 if rng.random() < 0.8 else 2):  # one in five was regraded
            graded = rng.random() < 0.95
            runs.append(
                {
                    "submission_id": sub_id,
                    "suite_id": suite_ids[assignment],
                    "status": RunState.GRADED if graded else RunState.FAILED,
                    "score": round(rng.uniform(0, 10), 2) if graded else None,
                    "max_score": 10.0,
                }
            )
    db.session.execute(insert(GradingRun), runs)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best, median) seconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def count_queries(fn: Callable[[], object]) -> int:
    statements: list[str] = []

    def listener(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


@contextmanager
def database(postgres: bool):
    if postgres:
        with scratch_postgres() as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/bench.db"


@contextmanager
def scratch_app(postgres: bool) -> Iterator[Flask]:
    """An app on a scratch database with its tables created; its engine disposed after."""
    with database(postgres) as url:
        app = create_app(app_settings(url))
        with app.app_context():
            db.create_all()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def analyse() -> None:
    """What autovacuum does soon after a bulk load on PostgreSQL: planner statistics."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="use a scratch PostgreSQL db")
    args = parser.parse_args()
    with scratch_app(args.postgres) as app:
        with app.app_context():
            start = time.perf_counter()
            fill(args.students)
            analyse()
            print(
                f"filled {args.students} students x 12 items in {time.perf_counter() - start:.1f}s:"
                f" {db.session.query(Submission).count()} submissions,"
                f" {db.session.query(GradingRun).count()} runs"
            )
            print(f"queries for the whole gradebook: {count_queries(compute_gradebook)}")
            best, median = timed(compute_gradebook, args.repeat)
            print(f"compute_gradebook: best {best * 1000:.0f} ms, median {median * 1000:.0f} ms")
        client = app.test_client()
        client.post("/login", data={"username": "ta", "password": PASSWORD})
        for path in ("/gradebook", "/gradebook/export.csv", "/api/v1/gradebook"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            best, median = timed(lambda path=path: client.get(path), args.repeat)
            print(
                f"GET {path}: best {best * 1000:.0f} ms, median {median * 1000:.0f} ms,"
                f" {len(response.data) / 1024:.0f} KiB"
            )


if __name__ == "__main__":
    main()
