"""Staff pages: every submission, filtered by assignment, student and status; signing a
person out everywhere."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from webapp import logins, user_sessions
from webapp.access import instructor_required, staff_required
from webapp.extensions import db
from webapp.forms import SignOutUserForm
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


@bp.route("/people/signout", methods=["POST"])
@instructor_required
def signout_user() -> Response:
    """End every login of one person (a shared computer, a leaked password); the button is
    on the roster page. Their API tokens are left alone."""
    form = SignOutUserForm()
    username = (form.username.data or "").strip()
    user = User.by_username(username) if form.validate() else None
    if user is None:
        flash(f"No user {username!r}.", "error")
        return redirect(url_for("instructor.roster"))
    ended = user_sessions.revoke_all(user)
    logins.audit(
        "signed out everywhere",
        username,
        f"by {current_user.username}: {ended} logins ended",
        logging.INFO,
    )
    flash(f"{username} is signed out everywhere ({ended} logins ended).", "info")
    return redirect(url_for("instructor.roster"))
