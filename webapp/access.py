"""Who may see what: one place for the permission rules the pages and the API share.

Students see published assignments and their own submissions; staff (TAs, instructors)
see everything. Objects a user may not see are reported as missing (404), not forbidden,
so ids do not reveal what exists. Pages only staff may open answer 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.gradebook.service import effective_deadline
from webapp.models import Assignment, GradingRun, Submission, User, utcnow
from webapp.visibility import CaseView, case_views, withheld_notes

P = ParamSpec("P")
R = TypeVar("R")


def visible_assignment(user: User, slug: str) -> Assignment:
    """The assignment `user` may open, else 404 (unpublished ones are staff-only)."""
    assignment = Assignment.by_slug(slug)
    if assignment is None or not (assignment.published or user.is_staff):
        abort(404)
    return assignment


def visible_submission(user: User, submission_id: int) -> Submission:
    """The submission `user` may open (their own, or any for staff), else 404."""
    submission = db.session.scalar(
        select(Submission)
        .where(Submission.id == submission_id)
        .options(selectinload(Submission.runs).selectinload(GradingRun.cases))
    )
    if submission is None or not (user.is_staff or submission.user_id == user.id):
        abort(404)
    return submission


@dataclass(frozen=True)
class CaseReport:
    """The shown run's cases as one viewer sees them, and why any details are withheld."""

    cases: list[CaseView]
    notes: list[str]
    deadline: datetime | None  # the submitter's effective deadline


def visible_cases(user: User, submission: Submission) -> CaseReport:
    """The cases of the submission's shown run as `user` may see them (webapp.visibility
    decides, against the submitter's deadline with their extension)."""
    shown = submission.result_run
    deadline = effective_deadline(submission.user_id, submission.assignment)
    views = case_views(
        shown.cases if shown else [], staff=user.is_staff, deadline=deadline, now=utcnow()
    )
    return CaseReport(views, withheld_notes(views, deadline), deadline)


def _role_required(allowed: Callable[[User], bool]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        @login_required
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if not allowed(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = _role_required(lambda user: user.is_staff)
instructor_required = _role_required(lambda user: user.is_instructor)
