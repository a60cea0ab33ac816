"""A student choosing which of their graded submissions counts (count rule "active")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.gradebook import rules
from webapp.gradebook.service import extension_due, rules_of
from webapp.models import ActiveSubmission, Submission, User, utcnow


class ActivationRefused(ValueError):
    """The submission cannot be made the counted one; the message says why."""


@dataclass(frozen=True)
class Choice:
    """One of a student's submissions as offered for activation."""

    submission_id: int
    submitted_at: datetime
    score: float | None
    max_score: float | None
    active: bool


def activate(user: User, submission: Submission) -> None:
    """Make `submission` (the user's own, graded, accepted) the one that counts."""
    assignment = submission.assignment
    rule = rules_of(assignment)
    if submission.user_id != user.id:
        raise ActivationRefused("only your own submissions can be chosen")
    if rule.count_rule != "active":
        raise ActivationRefused(f"{assignment.title}: the counted submission is not chosen")
    if submission.result_run is None:
        raise ActivationRefused("only a graded submission can be chosen")
    due = extension_due(user.id, assignment.id)
    if not rules.lateness(submission.created_at, rule.late, due).accepted:
        raise ActivationRefused("this submission was late after the deadline closed")
    choice = db.session.get(ActiveSubmission, (user.id, assignment.id)) or ActiveSubmission(
        user_id=user.id, assignment_id=assignment.id
    )
    choice.submission_id, choice.chosen_at = submission.id, utcnow()
    db.session.add(choice)
    db.session.commit()


def choices(user: User, assignment_ids: list[int]) -> dict[int, list[Choice]]:
    """Assignment id -> the user's submissions (newest first) with their shown score."""
    if not assignment_ids:
        return {}
    submissions = db.session.scalars(
        select(Submission)
        .where(Submission.user_id == user.id, Submission.assignment_id.in_(assignment_ids))
        .order_by(Submission.id.desc())
        .options(selectinload(Submission.runs))
    ).all()
    active = set(
        db.session.scalars(
            select(ActiveSubmission.submission_id).where(ActiveSubmission.user_id == user.id)
        )
    )
    result: dict[int, list[Choice]] = {a: [] for a in assignment_ids}
    for sub in submissions:
        shown = sub.result_run
        result[sub.assignment_id].append(
            Choice(
                sub.id,
                sub.created_at,
                shown.score if shown else None,
                shown.max_score if shown else None,
                sub.id in active,
            )
        )
    return result
