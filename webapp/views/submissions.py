"""Submission pages: my submissions, one submission's live status and result, its files."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer
from werkzeug.wrappers import Response

from webapp.access import staff_required, visible_cases, visible_submission
from webapp.extensions import db
from webapp.gradebook.service import failed_latest
from webapp.models import Submission, SubmissionFile
from webapp.routing import queue_info
from webapp.submitting import SubmissionRefused, acknowledge_failure, request_regrade

bp = Blueprint("submissions", __name__)


@bp.route("/submissions")
@login_required
def mine() -> str:
    submissions = db.session.scalars(
        select(Submission)
        .where(Submission.user_id == current_user.id)
        .order_by(Submission.id.desc())
        .limit(200)
        .options(selectinload(Submission.runs), selectinload(Submission.assignment))
    ).all()
    return render_template("submissions/mine.html", submissions=submissions)


@bp.route("/submissions/<int:submission_id>")
@login_required
def detail(submission_id: int) -> str:
    submission = visible_submission(current_user, submission_id)
    latest = submission.latest_run
    queue = queue_info(latest) if latest is not None else None
    return render_template(
        "submissions/detail.html",
        submission=submission,
        queue=queue,
        report=visible_cases(current_user, submission),
        failure=failed_latest(submission),
    )


@bp.route("/submissions/<int:submission_id>/files/<int:file_id>")
@login_required
def download(submission_id: int, file_id: int) -> Response:
    """A submitted file, always as an attachment (never rendered by the browser)."""
    submission = visible_submission(current_user, submission_id)
    file = db.session.scalar(
        select(SubmissionFile)
        .where(SubmissionFile.id == file_id, SubmissionFile.submission_id == submission.id)
        .options(undefer(SubmissionFile.content))
    )
    if file is None:
        abort(404)
    response = send_file(
        io.BytesIO(file.content),
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=file.name,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/submissions/<int:submission_id>/regrade", methods=["POST"])
@staff_required
def regrade(submission_id: int) -> Response:
    submission = visible_submission(current_user, submission_id)
    try:
        request_regrade(submission)
        flash("Regrade queued; the current result stays until it is graded.", "info")
    except SubmissionRefused as refused:
        flash(refused.message, "error")
    return redirect(url_for("submissions.detail", submission_id=submission.id))


@bp.route("/submissions/<int:submission_id>/acknowledge", methods=["POST"])
@staff_required
def acknowledge(submission_id: int) -> Response:
    """Staff reviewed the failed latest run: under the "hold" policy the earlier score counts."""
    submission = visible_submission(current_user, submission_id)
    if acknowledge_failure(submission, current_user) is None:
        flash("The latest run of this submission did not fail: nothing to acknowledge.", "error")
    else:
        flash("Failure acknowledged; the earlier score counts until a regrade replaces it.", "info")
    return redirect(url_for("submissions.detail", submission_id=submission.id))
