"""JSON API v1. Bearer tokens authenticate every call; a logged-in browser session may also
read (GET), which the live submission page uses. CSRF-exempt: no cookie-only writes exist."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, g, jsonify, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from webapp import logins
from webapp.access import visible_assignment, visible_cases, visible_submission
from webapp.extensions import db
from webapp.jobs.routing import queue_info
from webapp.models import ApiToken, Assignment, RunState, Submission, User, utcnow
from webapp.submitting import SubmissionRefused, create_submission
from webapp.views.assignments import uploaded_files
from webapp.views.submissions import running_case

bp = Blueprint("api", __name__, url_prefix="/api/v1")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_TOUCH_EVERY = timedelta(minutes=1)  # last_used_at precision: spare a write per call


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


@bp.before_request
def authenticate() -> Response | None:
    """Set g.user from the bearer token (or, for reads, the session); else 401. An address
    that sent too many invalid tokens gets 429 with Retry-After, before any lookup."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        throttle = logins.api_token_throttle()
        wait = throttle.retry_after()
        if wait:
            logins.audit("api token throttled", None, "too many invalid tokens")
            response = jsonify(error=f"too many invalid API tokens; retry in {wait} s")
            response.status_code = 429
            response.headers["Retry-After"] = str(wait)
            return response
        token = ApiToken.find(credentials.strip())
        if token is None:
            throttle.failed()
            logins.audit("api token refused", None, "invalid token")
            abort(401, "invalid API token")
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_EVERY:
            token.last_used_at = now
            db.session.commit()
        g.user = token.user
    elif request.method in SAFE_METHODS and current_user.is_authenticated:
        g.user = current_user
    else:
        abort(401, "send 'Authorization: Bearer <token>' (create one under Account > API tokens)")
    return None


def assignment_json(assignment: Assignment) -> dict:
    return {
        "slug": assignment.slug,
        "title": assignment.title,
        "deadline": iso(assignment.deadline),
        "max_score": assignment.max_score,
    }


def submission_json(submission: Submission, viewer: User) -> dict:
    """The public shape of a submission: latest run's status, latest graded run's result,
    its cases as `viewer` may see them (webapp.visibility: withheld details are null)."""
    shown = submission.result_run
    report = visible_cases(viewer, submission)
    return {
        "id": submission.id,
        "assignment": submission.assignment.slug,
        "status": submission.status.value,
        "score": shown.score if shown else None,
        "max_score": shown.max_score if shown else None,
        "created_at": iso(submission.created_at),
        "late": submission.late,
        "message": submission.message,
        "queue": queue_json(submission),
        "running_case": running_case(submission.latest_run),
        "cases": [c.as_json() for c in report.cases],
        "withheld": report.notes,
    }


def queue_json(submission: Submission) -> dict | None:
    """While the latest run is queued: its queue, runs ahead, expected wait (null when
    unknown) and a note when no worker for that queue is online; else null."""
    latest = submission.latest_run
    info = queue_info(latest) if latest is not None else None
    return info.as_json() if info is not None else None


@bp.get("/assignments")
def assignments() -> Response:
    rows = db.session.scalars(
        select(Assignment)
        .where(Assignment.published.is_(True))
        .order_by(Assignment.slug)
        .options(selectinload(Assignment.current_suite))
    ).all()
    return jsonify([assignment_json(a) for a in rows])


@bp.post("/assignments/<slug>/submissions")
def submit(slug: str) -> tuple[Response, int]:
    user: User = g.user
    assignment = visible_assignment(user, slug)
    try:
        submission = create_submission(user, assignment, uploaded_files())
    except SubmissionRefused as refused:
        return jsonify(error=refused.message), refused.status
    # Accepted means queued; the live status may already have moved on (GET shows it).
    return jsonify(id=submission.id, status=RunState.QUEUED.value), 202


@bp.get("/submissions/<int:submission_id>")
def submission(submission_id: int) -> Response:
    return jsonify(submission_json(visible_submission(g.user, submission_id), g.user))
