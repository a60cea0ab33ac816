"""Instructor pages: publish assignments, set deadlines, import the roster."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from webapp.access import instructor_required
from webapp.extensions import db
from webapp.forms import DeadlineForm, RosterForm
from webapp.models import Assignment, LatePolicy, Submission
from webapp.roster import RosterError, create_users, parse_roster
from webapp.selfcheck import PublishOutcome, request_publish

bp = Blueprint("instructor", __name__, url_prefix="/instructor")


def _assignment(slug: str) -> Assignment:
    assignment = Assignment.by_slug(slug)
    if assignment is None:
        abort(404)
    return assignment


@bp.route("/assignments")
@instructor_required
def assignments() -> str:
    rows = db.session.scalars(
        select(Assignment).order_by(Assignment.slug).options(selectinload(Assignment.current_suite))
    ).all()
    counts = dict(
        db.session.execute(
            select(Submission.assignment_id, func.count()).group_by(Submission.assignment_id)
        ).all()
    )
    forms = {
        a.slug: DeadlineForm(
            formdata=None,
            deadline=a.deadline.replace(tzinfo=None) if a.deadline else None,
            late_policy=a.late_policy.value,
        )
        for a in rows
    }
    return render_template(
        "instructor/assignments.html", assignments=rows, counts=counts, forms=forms
    )


@bp.route("/assignments/<slug>/publish", methods=["POST"])
@instructor_required
def publish(slug: str) -> Response:
    assignment = _assignment(slug)
    publish = request.form.get("published") == "1"
    if publish and assignment.current_suite is None:
        flash(f"{slug} has no test suite yet, so it cannot be published.", "error")
        return redirect(url_for("instructor.assignments"))
    if publish and request_publish(assignment.current_suite) is PublishOutcome.CHECKING:
        flash(
            f"{slug}: the self-check runs first; the assignment is published only if it passes.",
            "info",
        )
        return redirect(url_for("authoring.suites", slug=slug))
    assignment.published = publish
    db.session.commit()
    flash(f"{slug} is now {'published' if publish else 'hidden from students'}.", "info")
    return redirect(url_for("instructor.assignments"))


@bp.route("/assignments/<slug>/deadline", methods=["POST"])
@instructor_required
def deadline(slug: str) -> Response:
    assignment = _assignment(slug)
    form = DeadlineForm()
    if not form.validate():
        flash(f"{slug}: the deadline was not understood; use the date picker.", "error")
        return redirect(url_for("instructor.assignments"))
    value = form.deadline.data
    assignment.deadline = value.replace(tzinfo=UTC) if value else None
    assignment.late_policy = LatePolicy(form.late_policy.data)
    db.session.commit()
    flash(f"{slug}: deadline saved.", "info")
    return redirect(url_for("instructor.assignments"))


@bp.route("/roster", methods=["GET", "POST"])
@instructor_required
def roster() -> str | tuple[str, int]:
    form = RosterForm()
    if not form.validate_on_submit():
        return render_template("instructor/roster.html", form=form)
    try:
        rows = parse_roster(form.roster.data.read())
    except RosterError as exc:
        flash("Nothing was imported: fix the rows below and upload again.", "error")
        return render_template("instructor/roster.html", form=form, problems=exc.problems), 400
    create_users(rows, current_app.config["PASSWORD_HASH_METHOD"])
    flash(f"Imported {len(rows)} people.", "info")
    return render_template("instructor/roster.html", form=RosterForm(formdata=None), created=rows)
