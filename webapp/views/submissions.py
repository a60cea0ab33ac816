"""Submission pages: my submissions, one submission's live status and result, its files."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer
from werkzeug.wrappers import Response

from webapp.access import staff_required, visible_cases, visible_submission
from webapp.extensions import db
from webapp.gradebook.service import failed_latest
from webapp.jobs.liveness import current_case
from webapp.jobs.routing import queue_info
from webapp.logtext import collapse_repeats, failure_log
from webapp.models import GradingRun, RunState, Submission, SubmissionFile, utcnow
from webapp.operations import PHASES
from webapp.submitting import SubmissionRefused, acknowledge_failure, request_regrade
from webapp.visibility import CaseView

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
    report = visible_cases(current_user, submission)
    failure = failed_latest(submission)
    shown = submission.result_run
    staff = current_user.is_staff
    return render_template(
        "submissions/detail.html",
        submission=submission,
        queue=queue,
        report=report,
        cases=failed_first(report.cases),
        failing=[c for c in report.cases if c.status != "passed"],
        descriptions=case_descriptions(shown, report.cases),
        printed=same_outputs(report.cases),
        log=collapse_repeats(shown.log_tail) if staff and shown else [],
        failure=failure,
        failure_log=failure_log(failure.run.log_tail) if staff and failure else [],
        running_for=running_seconds(latest),
        running_case=running_case(latest),
        phase_names=PHASES,
    )


def failed_first(cases: list[CaseView]) -> list[CaseView]:
    """The cases that did not pass first, then the passed ones, each in the suite's order."""
    return sorted(cases, key=lambda c: c.status == "passed")


def same_outputs(cases: list[CaseView]) -> list[tuple[list[str], str]]:
    """What the cases printed, each distinct output once with the cases that printed it (the
    starter raising the same error in every case prints one traceback, not twenty)."""
    grouped: dict[str, list[str]] = {}
    for case in cases:
        if case.output:
            grouped.setdefault(case.output, []).append(case.name)
    return [(names, output) for output, names in grouped.items()]


def case_descriptions(run: GradingRun | None, cases: list[CaseView]) -> dict[str, str]:
    """Each case's description from the run's assignment.toml, for the cases whose details
    this viewer may see (a hidden case shows no more than its name, status and feedback)."""
    if run is None:
        return {}
    specs = {spec.name: spec.description for spec in run.suite.config.cases}
    return {c.name: specs[c.name] for c in cases if c.shown and specs.get(c.name)}


def running_seconds(run: GradingRun | None) -> int | None:
    """Whole seconds since the latest run started, while it is running; else None."""
    if run is None or run.status is not RunState.RUNNING or run.started_at is None:
        return None
    return max(0, int((utcnow() - run.started_at).total_seconds()))


def running_case(run: GradingRun | None) -> dict | None:
    """The case a running run is in now ({"name", "number", "of"}), as its worker last said
    in Redis; None when it is not running or nobody knows. Case names are shown to everyone
    (webapp.visibility), so this tells nobody anything new."""
    if run is None or run.status is not RunState.RUNNING:
        return None
    name = current_case(current_app.config["REDIS_URL"], run.id)
    names = [spec.name for spec in run.suite.config.cases]
    if name not in names:
        return None
    return {"name": name, "number": names.index(name) + 1, "of": len(names)}


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
