"""Instructor pages for the course rules: categories (weights, best-N), their items, and each
assignment's counting and late rules. TAs get 403 here."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from webapp.access import instructor_required
from webapp.extensions import db
from webapp.gradebook import rules
from webapp.gradebook.scheme import (
    SchemeError,
    add_assignment_item,
    add_manual_item,
    parse_categories,
    parse_items,
    save_categories,
    save_items,
    save_policy,
)
from webapp.gradebook.service import rules_of
from webapp.models import Assignment, Category, GradeItem

bp = Blueprint("gradebook_scheme", __name__, url_prefix="/gradebook/scheme")


def _categories() -> list[Category]:
    return list(
        db.session.scalars(
            select(Category)
            .order_by(Category.position, Category.id)
            .options(selectinload(Category.items).selectinload(GradeItem.assignment))
        )
    )


def _render(problems: list[str] | None = None, typed: dict | None = None) -> tuple[str, int]:
    categories = _categories()
    assignments = list(db.session.scalars(select(Assignment).order_by(Assignment.slug)))
    listed = {i.assignment_id for c in categories for i in c.items}
    html = render_template(
        "gradebook/scheme.html",
        categories=categories,
        weight_total=sum(c.weight for c in categories),
        assignments=assignments,
        unlisted=[a for a in assignments if a.id not in listed],
        policies={a.id: rules_of(a) for a in assignments},
        count_rules=rules.COUNT_RULES,
        problems=problems or [],
        typed=typed or {},
    )
    return html, 400 if problems else 200


def _refused(exc: SchemeError) -> tuple[str, int]:
    flash("Nothing was changed: " + "; ".join(exc.problems) + ".", "error")
    return _render(exc.problems, dict(request.form))


@bp.route("")
@instructor_required
def index() -> tuple[str, int]:
    return _render()


@bp.route("/categories", methods=["POST"])
@instructor_required
def categories() -> Response | tuple[str, int]:
    ids = list(db.session.scalars(select(Category.id)))
    try:
        save_categories(parse_categories(request.form, ids))
    except SchemeError as exc:
        return _refused(exc)
    flash("Categories saved.", "info")
    return redirect(url_for("gradebook_scheme.index"))


@bp.route("/items", methods=["POST"])
@instructor_required
def items() -> Response | tuple[str, int]:
    all_items = list(db.session.scalars(select(GradeItem)))
    try:
        save_items(parse_items(request.form, all_items))
    except SchemeError as exc:
        return _refused(exc)
    flash("Items saved.", "info")
    return redirect(url_for("gradebook_scheme.index"))


@bp.route("/items/new", methods=["POST"])
@instructor_required
def new_item() -> Response | tuple[str, int]:
    category = db.session.get(Category, request.form.get("category", type=int) or 0)
    if category is None:
        return _refused(SchemeError(["choose a category for the new item"]))
    source = request.form.get("source", "manual")
    try:
        if source == "manual":
            item = add_manual_item(
                category,
                request.form.get("key", ""),
                request.form.get("title", ""),
                request.form.get("max_score", ""),
            )
        else:
            assignment = Assignment.by_slug(source)
            if assignment is None:
                raise SchemeError([f"no assignment {source!r}"])
            item = add_assignment_item(category, assignment)
    except SchemeError as exc:
        return _refused(exc)
    flash(f"Added {item.key} to {category.name}.", "info")
    return redirect(url_for("gradebook_scheme.index"))


@bp.route("/assignments/<slug>/policy", methods=["POST"])
@instructor_required
def policy(slug: str) -> Response | tuple[str, int]:
    assignment = Assignment.by_slug(slug)
    if assignment is None:
        abort(404)
    try:
        save_policy(
            assignment,
            request.form.get("count_rule", ""),
            request.form.get("grace_minutes", ""),
            request.form.get("penalty_percent", ""),
        )
    except SchemeError as exc:
        return _refused(exc)
    flash(f"{slug}: counting rules saved.", "info")
    return redirect(url_for("gradebook_scheme.index"))
