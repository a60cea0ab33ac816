"""The staff gradebook: every student's row (sortable, filterable), per-item statistics with
histograms, the CSV export, and one student's breakdown."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from webapp.access import staff_required
from webapp.gradebook.cells import percent, points, score_cells
from webapp.gradebook.export import csv_header, gradebook_csv
from webapp.gradebook.service import compute_gradebook
from webapp.gradebook.stats import histogram_svg, item_stats
from webapp.gradebook.table import DEFAULT_SORT, filter_rows, sort_rows
from webapp.models import User
from webapp.views.grades import render_report

bp = Blueprint("gradebook", __name__, url_prefix="/gradebook")


@bp.route("")
@staff_required
def index() -> str:
    book = compute_gradebook()
    view = {
        "sort": request.args.get("sort", DEFAULT_SORT),
        "dir": "desc" if request.args.get("dir") == "desc" else "asc",
        "q": request.args.get("q", "").strip(),
        "missing": request.args.get("missing", "").strip(),
    }
    rows = filter_rows(
        sort_rows(book, view["sort"], view["dir"] == "desc"), view["q"], view["missing"]
    )
    return render_template(
        "gradebook/index.html",
        book=book,
        rows=rows,
        view=view,
        stats=item_stats(book.columns, book.rows),
        histogram_svg=histogram_svg,
        score_cells=score_cells,
        csv_columns=csv_header(book),
    )


@bp.route("/export.csv")
@staff_required
def export() -> Response:
    response = Response(gradebook_csv(compute_gradebook()), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=gradebook.csv"
    return response


@bp.route("/students/<username>")
@staff_required
def student(username: str) -> str:
    user = User.by_username(username)
    if user is None or user.is_staff:
        abort(404)
    return render_report(user)


bp.add_app_template_filter(points, "points")
bp.add_app_template_filter(percent, "percent")
