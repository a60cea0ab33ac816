"""The operations page for staff: the grading fleet at a glance, and re-queueing a stuck run."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from webapp.access import staff_required
from webapp.jobs.reconcile import requeue_and_enqueue
from webapp.operations import snapshot

bp = Blueprint("operations", __name__, url_prefix="/staff/operations")


@bp.get("")
@staff_required
def index() -> str:
    return render_template("staff/operations.html", ops=snapshot())


@bp.post("/runs/<int:run_id>/requeue")
@staff_required
def requeue(run_id: int) -> Response:
    """Send one stuck run again, the reconciler's way (webapp.jobs.reconcile.requeue_stuck)."""
    report = requeue_and_enqueue(run_id)
    if report.to_send:
        queue = report.to_send[0][1]
        flash(f"Run {run_id} is queued again on the {queue} queue.", "info")
    else:
        flash(f"Run {run_id} is not stuck (any more): nothing was changed.", "error")
    return redirect(url_for("operations.index"))
