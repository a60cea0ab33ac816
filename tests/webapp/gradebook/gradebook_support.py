"""Builders for gradebook tests: graded submissions at chosen times, the course scheme, and the
fully worked example that several test modules check against a hand calculation.

The worked example (deadline D for a1..a4, each out of 10; written exams out of 20):

alice  a1 (last):            8 at D-2h, 6 at D-1h                 -> 6  (last on time)
       a2 (best, -10%/day):  7 at D-24h, 10 at D+30h (2 days late) -> 8  (10 x 0.8 beats 7)
       a3 (last, 60 min grace): 9 at D+30min                       -> 9  (inside the grace)
       a4 (closed, extension to D+72h): 5 at D+48h, 10 at D+96h    -> 5  (the late one refused)
       programming best 3 of 4: (0.9 + 0.8 + 0.6) / 3 = 76.667%, a4 dropped
       written 15, -, 18, 10 of 20: best 3 = (0.9 + 0.75 + 0.5) / 3 = 71.667%, written2 dropped
       project 80/100 = 80%, final 65/100 = 65%
       total = 0.3 x 76.667 + 0.3 x 71.667 + 0.2 x 80 + 0.2 x 65 = 23 + 21.5 + 16 + 13 = 73.5
bob    no submissions; final 50/100 -> total 0.2 x 50 = 10
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask

from webapp.extensions import db
from webapp.models import (
    Assignment,
    Category,
    Extension,
    GradeItem,
    GradingRun,
    LatePolicy,
    ManualScore,
    RunState,
    ScoringPolicy,
    Submission,
    SubmissionFile,
    User,
)

DUE = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
ALICE_TOTAL = 0.3 * (0.9 + 0.8 + 0.6) / 3 * 100 + 0.3 * (0.9 + 0.75 + 0.5) / 3 * 100 + 16 + 13
BOB_TOTAL = 10.0


def at(hours: float) -> datetime:
    """`hours` after the deadline D (negative: before)."""
    return DUE + timedelta(hours=hours)


def submission_at(
    app: Flask, user_id: int, assignment_id: int, when: datetime, score: float | None
) -> int:
    """A submission made at `when`, with one run: graded with `score`, or queued when None."""
    with app.app_context():
        assignment = db.session.get_one(Assignment, assignment_id)
        suite = assignment.current_suite
        submission = Submission(user_id=user_id, assignment=assignment, created_at=when)
        submission.files = [SubmissionFile.of("layers.py", b"x = 1\n")]
        submission.runs = [_run(suite.id, score)]
        db.session.add(submission)
        db.session.commit()
        return submission.id


def _run(suite_id: int, score: float | None) -> GradingRun:
    if score is None:
        return GradingRun(suite_id=suite_id)
    return GradingRun(suite_id=suite_id, status=RunState.GRADED, score=score, max_score=10.0)


def add_run(app: Flask, submission_id: int, score: float | None) -> None:
    """Another run of a submission (a regrade): graded with `score`, or queued when None."""
    with app.app_context():
        submission = db.session.get_one(Submission, submission_id)
        submission.runs.append(_run(submission.assignment.current_suite_id, score))
        db.session.commit()


def set_policy(
    app: Flask, assignment_id: int, rule: str = "last", grace: int = 0, penalty: float = 0.0
) -> None:
    with app.app_context():
        db.session.merge(
            ScoringPolicy(
                assignment_id=assignment_id,
                count_rule=rule,
                grace_minutes=grace,
                penalty_per_day=penalty,
            )
        )
        db.session.commit()


def build_scheme(app: Flask, assignment_ids: list[int]) -> None:
    """The course scheme: programming 30 (best 3) with the assignments, written exams 30
    (best 3, four items out of 20), project 20 and final 20 (out of 100)."""
    with app.app_context():
        assignments = [db.session.get_one(Assignment, i) for i in assignment_ids]
        prog = Category(name="Programming", weight=30, best_n=3, position=0)
        prog.items = [
            GradeItem(key=a.slug, title=a.title, assignment=a, position=i)
            for i, a in enumerate(assignments)
        ]
        written = Category(name="Written exams", weight=30, best_n=3, position=1)
        written.items = [
            GradeItem(key=f"written{i}", title=f"Written {i}", max_score=20, position=i)
            for i in range(1, 5)
        ]
        project = Category(name="Project", weight=20, position=2)
        project.items = [GradeItem(key="project", title="Project", max_score=100)]
        final = Category(name="Final", weight=20, position=3)
        final.items = [GradeItem(key="final", title="Final exam", max_score=100)]
        db.session.add_all([prog, written, project, final])
        db.session.commit()


def manual_score(app: Flask, user_id: int, key: str, score: float) -> None:
    with app.app_context():
        item_id = db.session.scalar(db.select(GradeItem.id).where(GradeItem.key == key))
        db.session.add(ManualScore(item_id=item_id, user_id=user_id, score=score))
        db.session.commit()


def worked_example(app: Flask, make) -> dict[str, int]:  # noqa: ANN001 - tests' Builders
    """Build the example of the module docstring; return the ids tests refer to."""
    ids = make.people()
    for slug in ("a1", "a2", "a3"):
        ids[slug] = make.assignment(slug, deadline=DUE)
    ids["a4"] = make.assignment("a4", deadline=DUE, late_policy=LatePolicy.CLOSED)
    build_scheme(app, [ids[s] for s in ("a1", "a2", "a3", "a4")])
    set_policy(app, ids["a2"], rule="best", penalty=0.1)
    set_policy(app, ids["a3"], grace=60)
    alice = ids["alice"]
    ids["a1_first"] = submission_at(app, alice, ids["a1"], at(-2), 8)
    ids["a1_last"] = submission_at(app, alice, ids["a1"], at(-1), 6)
    submission_at(app, alice, ids["a2"], at(-24), 7)
    ids["a2_late"] = submission_at(app, alice, ids["a2"], at(30), 10)
    ids["a3_sub"] = submission_at(app, alice, ids["a3"], at(0.5), 9)
    ids["a4_sub"] = submission_at(app, alice, ids["a4"], at(48), 5)
    submission_at(app, alice, ids["a4"], at(96), 10)
    with app.app_context():
        db.session.add(
            Extension(
                assignment_id=ids["a4"],
                user_id=alice,
                due=at(72),
                reason="illness",
                granted_by_id=ids["tina"],
            )
        )
        db.session.commit()
    for key, score in (("written1", 15), ("written3", 18), ("written4", 10), ("project", 80)):
        manual_score(app, alice, key, score)
    manual_score(app, alice, "final", 65)
    manual_score(app, ids["bob"], "final", 50)
    return ids


def username_of(app: Flask, user_id: int) -> str:
    with app.app_context():
        return db.session.get_one(User, user_id).username
