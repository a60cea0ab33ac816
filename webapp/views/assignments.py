"""Assignment pages: the list, one assignment with its handout and upload form, submitting."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from webapp.access import visible_assignment
from webapp.extensions import db
from webapp.forms import SubmitForm
from webapp.gradebook import rules
from webapp.gradebook.deadline_extensions import extensions_of
from webapp.gradebook.service import (
    effective_deadline,
    extension_due,
    rules_of,
    submission_lateness,
)
from webapp.models import Assignment, Submission, utcnow
from webapp.submitting import SubmissionRefused, create_submission, limits_in_words

bp = Blueprint("assignments", __name__)


def uploaded_files() -> list[tuple[str, bytes]]:
    """The request's `files` parts as (name, bytes); empty parts (no file chosen) are dropped."""
    return [(f.filename, f.read()) for f in request.files.getlist("files") if f.filename]


@bp.route("/")
@login_required
def home() -> Response:
    return redirect(url_for("assignments.index"))


@bp.route("/assignments")
@login_required
def index() -> str:
    query = select(Assignment).order_by(Assignment.deadline.is_(None), Assignment.deadline)
    if not current_user.is_staff:
        query = query.where(Assignment.published.is_(True))
    assignments = db.session.scalars(query.options(selectinload(Assignment.current_suite))).all()
    # a student sees their own deadline: an extension replaces the class deadline
    extensions = {} if current_user.is_staff else extensions_of(current_user.id)
    return render_template("assignments/index.html", assignments=assignments, extensions=extensions)


def _render_detail(assignment: Assignment, form: SubmitForm, status: int = 200) -> tuple[str, int]:
    mine = db.session.scalars(
        select(Submission)
        .where(Submission.assignment_id == assignment.id, Submission.user_id == current_user.id)
        .order_by(Submission.id.desc())
        .limit(20)
        .options(selectinload(Submission.runs))
    ).all()
    suite = assignment.current_suite
    config = suite.config if suite else None
    late = rules_of(assignment).late
    html = render_template(
        "assignments/detail.html",
        assignment=assignment,
        config=config,
        form=form,
        mine=mine,
        late=late,
        late_terms=rules.late_terms(late),
        extension=extension_due(current_user.id, assignment.id),
        # a submission made now: how late, and whether accepted (extension and grace included)
        now_late=submission_lateness(current_user, assignment, utcnow()),
        on_time_until=effective_deadline(current_user.id, assignment),
        limits=None if current_user.is_staff else limits_in_words(),
    )
    return html, status


@bp.route("/assignments/<slug>")
@login_required
def detail(slug: str) -> tuple[str, int]:
    return _render_detail(visible_assignment(current_user, slug), SubmitForm())


@bp.route("/assignments/<slug>/starter.zip")
@login_required
def starter(slug: str) -> Response:
    assignment = visible_assignment(current_user, slug)
    if assignment.current_suite is None:
        abort(404)
    data = assignment.current_suite.package().student_download()
    return send_file(
        io.BytesIO(data),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{assignment.slug}-starter.zip",
    )


@bp.route("/assignments/<slug>/submissions", methods=["POST"])
@login_required
def submit(slug: str) -> Response | tuple[str, int]:
    assignment = visible_assignment(current_user, slug)
    form = SubmitForm()
    try:
        submission = create_submission(current_user, assignment, uploaded_files())
    except SubmissionRefused as refused:
        flash(f"Not submitted: {refused.message}", "error")
        return _render_detail(assignment, form, status=refused.status)
    flash("Submitted. Grading has been queued.", "info")
    return redirect(url_for("submissions.detail", submission_id=submission.id))
