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
from webapp.gradebook import rules
from webapp.gradebook.scheme import save_policy
from webapp.gradebook.seed import _programming_category, seed_course_scheme
from webapp.gradebook.service import rules_of
from webapp.models import Assignment, GradeItem, LatePolicy, Submission
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
            grace_minutes=int(rules_of(a).late.grace.total_seconds() // 60),
            penalty_percent=round(rules_of(a).late.penalty_per_day * 100, 4),
        )
        for a in rows
    }
    return render_template(
        "instructor/assignments.html",
        assignments=rows,
        counts=counts,
        forms=forms,
        late_terms={a.slug: rules.late_terms(rules_of(a).late) for a in rows},
        # published but in no gradebook category: its scores count nowhere (a warning + fix)
        in_gradebook=set(db.session.scalars(select(GradeItem.assignment_id))),
    )


@bp.route("/assignments/<slug>/unpublish")
@instructor_required
def confirm_unpublish(slug: str) -> str:
    """The second step before hiding a published assignment from students."""
    assignment = _assignment(slug)
    count = db.session.scalar(
        select(func.count())
        .select_from(Submission)
        .where(Submission.assignment_id == assignment.id)
    )
    return render_template("instructor/unpublish.html", assignment=assignment, count=count or 0)


@bp.route("/assignments/<slug>/gradebook", methods=["POST"])
@instructor_required
def add_to_gradebook(slug: str) -> Response:
    """Put an assignment missing from the gradebook into the programming category, as
    `flask gradebook seed` does (creating the course scheme first when there is none)."""
    assignment = _assignment(slug)
    seed_course_scheme()  # creates the scheme if missing; may already add this assignment
    if db.session.scalar(select(GradeItem.id).where(GradeItem.assignment_id == assignment.id)):
        flash(f"{assignment.title} is in the gradebook now.", "info")
        return redirect(url_for("instructor.assignments"))
    category = _programming_category()
    taken = db.session.scalar(select(GradeItem.id).where(GradeItem.key == slug))
    if category is None or taken:
        flash(
            f"{assignment.title} was not added: "
            + ("an item already uses its slug" if taken else "there is no programming category")
            + "; add it on the course rules page.",
            "error",
        )
        return redirect(url_for("gradebook_scheme.index"))
    position = max((i.position for i in category.items), default=-1) + 1
    category.items.append(
        GradeItem(key=slug, title=assignment.title, assignment=assignment, position=position)
    )
    db.session.commit()
    flash(f"{assignment.title} is in the gradebook now, under {category.name}.", "info")
    return redirect(url_for("instructor.assignments"))


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
    flash(
        f"{assignment.title} is now {'published' if publish else 'hidden from students'}.", "info"
    )
    return redirect(url_for("instructor.assignments"))


@bp.route("/assignments/<slug>/deadline", methods=["POST"])
@instructor_required
def deadline(slug: str) -> Response:
    assignment = _assignment(slug)
    form = DeadlineForm()
    if not form.validate():
        problems = [m for f in (form.grace_minutes, form.penalty_percent) for m in f.errors]
        why = " ".join(problems) or "The deadline was not understood; use the date picker."
        flash(f"{assignment.title}: nothing was saved. {why}", "error")
        return redirect(url_for("instructor.assignments"))
    value = form.deadline.data
    assignment.deadline = value.replace(tzinfo=UTC) if value else None
    assignment.late_policy = LatePolicy(form.late_policy.data)
    current = rules_of(assignment)
    grace, penalty = form.grace_minutes.data, form.penalty_percent.data
    save_policy(  # commits the deadline with the late rules
        assignment,
        current.count_rule,
        str(grace if grace is not None else int(current.late.grace.total_seconds() // 60)),
        str(penalty if penalty is not None else current.late.penalty_per_day * 100),
    )
    terms = rules.late_terms(rules_of(assignment).late)
    flash(f"{assignment.title}: deadline and late rules saved. {terms}", "info")
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
