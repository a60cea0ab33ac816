"""What TAs and instructors do to the gradebook: type in or import scores of manual items, and
grant or revoke per-student extensions."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from webapp.access import staff_required
from webapp.extensions import db
from webapp.gradebook.deadline_extensions import (
    ExtensionRefused,
    all_extensions,
    grant_extension,
    revoke_extension,
)
from webapp.gradebook.forms import ExtensionForm, ScoresImportForm
from webapp.gradebook.scores import (
    CSV_COLUMNS,
    ScoreError,
    apply_scores,
    parse_item_form,
    parse_scores_csv,
)
from webapp.gradebook.service import students
from webapp.models import Assignment, GradeItem, ManualScore, User
from webapp.words import plural

bp = Blueprint("gradebook_scores", __name__, url_prefix="/gradebook")


def _manual_items() -> list[GradeItem]:
    return list(
        db.session.scalars(
            select(GradeItem).where(GradeItem.assignment_id.is_(None)).order_by(GradeItem.key)
        )
    )


@bp.route("/import", methods=["GET", "POST"])
@staff_required
def import_scores() -> str | tuple[str, int]:
    form = ScoresImportForm()
    context = {"columns": CSV_COLUMNS, "items": _manual_items()}
    if not form.validate_on_submit():
        return render_template("gradebook/import.html", form=form, **context)
    try:
        changes = parse_scores_csv(form.scores.data.read())
    except ScoreError as exc:
        flash("Nothing was imported: fix the lines below and upload again.", "error")
        html = render_template("gradebook/import.html", form=form, problems=exc.problems, **context)
        return html, 400
    changed = apply_scores(changes, current_user)
    flash(f"Imported {plural(len(changes), 'score')}; {changed} changed.", "info")
    return render_template("gradebook/import.html", form=ScoresImportForm(formdata=None), **context)


@bp.route("/items/<key>/scores", methods=["GET", "POST"])
@staff_required
def item_scores(key: str) -> str | tuple[str, int] | Response:
    item = db.session.scalar(select(GradeItem).where(GradeItem.key == key))
    if item is None or not item.is_manual:
        abort(404)
    problems: list[str] = []
    if request.method == "POST":
        try:
            changed = apply_scores(parse_item_form(item, request.form), current_user)
            flash(f"{item.title}: {plural(changed, 'score')} changed.", "info")
            return redirect(url_for("gradebook_scores.item_scores", key=key))
        except ScoreError as exc:
            problems = exc.problems
            flash("Nothing was saved: fix the scores listed below.", "error")
    scores = dict(
        db.session.execute(
            select(ManualScore.user_id, ManualScore.score).where(ManualScore.item_id == item.id)
        ).all()
    )
    html = render_template(
        "gradebook/item_scores.html",
        item=item,
        students=students(),
        scores=scores,
        typed=request.form if problems else {},
        problems=problems,
    )
    return html, 400 if problems else 200


def _assignment_choices() -> list[tuple[str, str]]:
    rows = db.session.scalars(select(Assignment).order_by(Assignment.slug))
    return [(a.slug, f"{a.title} ({a.slug})") for a in rows if a.deadline is not None]


def _render_extensions(form: ExtensionForm, status: int = 200) -> tuple[str, int]:
    html = render_template(
        "gradebook/extensions.html",
        form=form,
        extensions=all_extensions(),
        students=students(),  # the picker: every student on the roster
    )
    return html, status


@bp.route("/extensions", methods=["GET", "POST"])
@staff_required
def extensions() -> tuple[str, int] | Response:
    form = ExtensionForm()
    form.assignment.choices = _assignment_choices()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                return _grant(form)
            except ExtensionRefused as refused:
                flash(f"Not granted: {refused}.", "error")
        else:
            flash("Not granted: fill in every field (the deadline with the picker).", "error")
        return _render_extensions(form, 400)
    return _render_extensions(form)


def _grant(form: ExtensionForm) -> Response:
    assignment = Assignment.by_slug(form.assignment.data)
    if assignment is None:
        raise ExtensionRefused("no such assignment")
    student = User.by_username(form.student.data.strip())
    due = form.due.data.replace(tzinfo=UTC)
    extension = grant_extension(assignment, student, due, form.reason.data, current_user)
    flash(
        f"{extension.user.display_name} ({extension.user.username}) has until "
        f"{due:%Y-%m-%d %H:%M} UTC on {assignment.title}.",
        "info",
    )
    return redirect(url_for("gradebook_scores.extensions"))


@bp.route("/extensions/<int:extension_id>/revoke", methods=["POST"])
@staff_required
def revoke(extension_id: int) -> Response:
    extension = revoke_extension(extension_id)
    if extension is None:
        abort(404)
    flash("Extension revoked.", "info")
    return redirect(url_for("gradebook_scores.extensions"))
