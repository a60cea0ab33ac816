"""Instructor authoring: upload a package, see each suite version's self-check, publish a
version once it passed, regrade an assignment's submissions with its current suite."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from grader import PackageError, load_package
from webapp.access import instructor_required, staff_required
from webapp.extensions import db
from webapp.forms import PackageForm
from webapp.models import Assignment, GradingRun, Submission, Suite
from webapp.selfcheck import PublishOutcome, in_flight, report_of, request_publish
from webapp.selfcheck import request_selfcheck as queue_selfcheck
from webapp.submitting import SubmissionRefused, regrade_assignment
from webapp.suites import store_package
from webapp.words import plural

bp = Blueprint("authoring", __name__, url_prefix="/instructor")


def _assignment(slug: str) -> Assignment:
    assignment = Assignment.by_slug(slug)
    if assignment is None:
        abort(404)
    return assignment


def _suite(suite_id: int) -> Suite:
    return db.session.get(Suite, suite_id) or abort(404)


def _to_suites(assignment: Assignment) -> Response:
    return redirect(url_for("authoring.suites", slug=assignment.slug))


@bp.route("/upload", methods=["GET", "POST"])
@instructor_required
def upload() -> Response | tuple[str, int]:
    """Store an uploaded package zip as a new assignment or suite version; queue its check."""
    form = PackageForm()
    if not form.validate_on_submit():
        failed = form.is_submitted()
        error = "Choose the package's zip file." if failed else None
        return render_template("instructor/upload.html", form=form, error=error), (
            400 if failed else 200
        )
    try:
        package = load_package(form.package.data.read())
    except PackageError as exc:
        return render_template("instructor/upload.html", form=form, error=str(exc)), 400
    stored = store_package(package)
    db.session.commit()
    suite = stored.suite
    if not stored.created:
        flash(f"This package is identical to suite v{suite.version}: nothing new was stored.")
        return _to_suites(suite.assignment)
    queue_selfcheck(suite, publish=suite.assignment.published)
    flash(_stored_message(suite), "info")
    return _to_suites(suite.assignment)


def _stored_message(suite: Suite) -> str:
    """What happens next to a freshly stored version, in the instructor's words."""
    stored = f"Stored {suite.assignment.slug} suite v{suite.version}; its self-check is queued."
    if suite.assignment.published:
        return stored + " It replaces the current version for new submissions once it passes."
    return stored + " It is the current version; publish the assignment when the check passes."


@bp.route("/assignments/<slug>/suites")
@instructor_required
def suites(slug: str) -> str:
    """Every suite version of one assignment with its self-check report."""
    assignment = _assignment(slug)
    versions = sorted(assignment.suites, key=lambda s: s.version, reverse=True)
    return render_template(
        "instructor/suites.html",
        assignment=assignment,
        versions=versions,
        reports={s.id: report_of(s) for s in versions},
        in_flight={s.id for s in versions if in_flight(s)},
        submissions=_submission_count(assignment),
        outdated=_outdated_count(assignment),
        form=PackageForm(formdata=None),
    )


def _submission_count(assignment: Assignment) -> int:
    query = select(func.count()).where(Submission.assignment_id == assignment.id)
    return db.session.scalar(query.select_from(Submission)) or 0


def _outdated_count(assignment: Assignment) -> int:
    """Submissions whose latest grading run used another suite than the current one."""
    if assignment.current_suite is None:
        return 0
    latest = (
        select(func.max(GradingRun.id))
        .join(Submission, GradingRun.submission_id == Submission.id)
        .where(Submission.assignment_id == assignment.id)
        .group_by(GradingRun.submission_id)
    )
    query = select(func.count()).where(
        GradingRun.id.in_(latest), GradingRun.suite_id != assignment.current_suite_id
    )
    return db.session.scalar(query.select_from(GradingRun)) or 0


@bp.route("/suites/<int:suite_id>/selfcheck", methods=["POST"])
@instructor_required
def selfcheck(suite_id: int) -> Response:
    suite = _suite(suite_id)
    if queue_selfcheck(suite):
        flash(f"Self-check of v{suite.version} queued.", "info")
    else:
        flash(f"The self-check of v{suite.version} is already queued or running.", "info")
    return _to_suites(suite.assignment)


@bp.route("/suites/<int:suite_id>/publish", methods=["POST"])
@instructor_required
def publish(suite_id: int) -> Response:
    """Make a version current and publish the assignment, once its self-check passed."""
    suite = _suite(suite_id)
    slug = suite.assignment.slug
    if request_publish(suite) is PublishOutcome.LIVE:
        flash(f"{slug} suite v{suite.version} is current and the assignment is published.", "info")
    else:
        flash(
            f"{slug} suite v{suite.version} is being self-checked first: it is published only "
            "if the reference scores full marks, the starter 0 and every mutant loses points.",
            "info",
        )
    return _to_suites(suite.assignment)


@bp.route("/suites/<int:suite_id>/status")
@instructor_required
def status(suite_id: int) -> Response:
    """The self-check status, for the page's live update."""
    suite = _suite(suite_id)
    return jsonify(status=suite.selfcheck_status.value, in_flight=in_flight(suite))


@bp.route("/assignments/<slug>/regrade", methods=["POST"])
@staff_required
def regrade(slug: str) -> Response:
    """Queue a run with the current suite for every submission of the assignment."""
    assignment = _assignment(slug)
    try:
        count = regrade_assignment(assignment)
    except SubmissionRefused as refused:
        flash(refused.message, "error")
        return _to_suites(assignment)
    version = assignment.current_suite.version
    message = f"Queued {plural(count.queued, 'regrade')} with suite v{version}."
    if count.busy:
        one = count.busy == 1
        message += (
            f" {plural(count.busy, 'submission')} still being graded "
            f"{'was left as it is' if one else 'were left as they are'}."
        )
    flash(message + " Earlier results stay shown until each new run is graded.", "info")
    return _to_suites(assignment)
