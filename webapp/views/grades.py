"""A student's own grades: each item's counted score and how it was chosen, dropped items,
category percentages and the running total; choosing the submission that counts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from webapp.access import visible_submission
from webapp.gradebook.activation import ActivationRefused, activate, choices
from webapp.gradebook.deadline_extensions import extensions_of
from webapp.gradebook.service import compute_gradebook
from webapp.models import User

bp = Blueprint("grades", __name__, url_prefix="/grades")


def render_report(student: User, can_choose: bool = False) -> str:
    """One student's breakdown (their own page, and the staff view of it)."""
    book = compute_gradebook([student.id])
    if not book.rows:
        abort(404)
    active_rule = [
        c.assignment_id for c in book.columns if c.rules and c.rules.count_rule == "active"
    ]
    return render_template(
        "gradebook/student.html",
        book=book,
        row=book.rows[0],
        student=student,
        choices=choices(student, active_rule),
        extensions=extensions_of(student.id),
        can_choose=can_choose,
    )


@bp.route("")
@login_required
def mine() -> str:
    if current_user.is_staff:
        return render_template("gradebook/staff_has_no_grades.html")
    return render_report(current_user, can_choose=True)


@bp.route("/activate/<int:submission_id>", methods=["POST"])
@login_required
def choose(submission_id: int) -> Response:
    submission = visible_submission(current_user, submission_id)
    try:
        activate(current_user, submission)
        flash(f"Submission #{submission.id} now counts for {submission.assignment.title}.", "info")
    except ActivationRefused as refused:
        flash(f"Not changed: {refused}.", "error")
    return redirect(url_for("grades.mine"))
