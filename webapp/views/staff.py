"""Staff pages: every submission, filtered by assignment, student and status."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from webapp.access import staff_required
from webapp.extensions import db
from webapp.models import Assignment, GradingRun, RunState, Submission, User

bp = Blueprint("staff", __name__, url_prefix="/staff")
PER_PAGE = 50


def filtered_submissions(assignment: str, student: str, status: str) -> Select:
    """Submissions matching the filters (empty filter: any), newest first."""
    query = select(Submission).order_by(Submission.id.desc())
    if assignment:
        query = query.join(Submission.assignment).where(Assignment.slug == assignment)
    if student:
        query = query.join(Submission.user).where(User.username == student)
    if status in {s.value for s in RunState}:
        latest_run = (
            select(func.max(GradingRun.id))
            .where(GradingRun.submission_id == Submission.id)
            .correlate(Submission)
            .scalar_subquery()
        )
        query = query.join(GradingRun, GradingRun.id == latest_run).where(
            GradingRun.status == RunState(status)
        )
    return query.options(
        selectinload(Submission.runs),
        selectinload(Submission.user),
        selectinload(Submission.assignment),
    )


@bp.route("/submissions")
@staff_required
def submissions() -> str:
    filters = {k: request.args.get(k, "").strip() for k in ("assignment", "student", "status")}
    page = db.paginate(
        filtered_submissions(**filters), per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False
    )
    assignments = db.session.scalars(select(Assignment).order_by(Assignment.slug)).all()
    return render_template(
        "staff/submissions.html",
        page=page,
        filters=filters,
        assignments=assignments,
        statuses=[s.value for s in RunState],
    )
