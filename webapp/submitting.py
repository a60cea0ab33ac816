"""Taking a submission: check the deadline, validate the upload, store, commit, then enqueue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.gradebook.service import submission_lateness
from webapp.jobs.enqueue import enqueue_grading
from webapp.jobs.routing import queue_for
from webapp.models import (
    Assignment,
    GradingRun,
    RunState,
    Submission,
    SubmissionFile,
    Suite,
    User,
    utcnow,
)
from webapp.uploads import UploadError, validate_upload
from webapp.words import plural


class SubmissionRefused(Exception):
    """The submission was not accepted; `message` is for the student, `status` for HTTP."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def check_open(user: User, assignment: Assignment, now: datetime) -> bool:
    """Whether a submission now is late; raise SubmissionRefused if it may not be made at all.
    Staff may always submit (to try the grader after the deadline)."""
    if assignment.current_suite is None:
        raise SubmissionRefused("This assignment is not ready for submissions yet.", 409)
    # The gradebook's rules decide: grace period and this student's extension included.
    lateness = submission_lateness(user, assignment, now)
    if not lateness.accepted and not user.is_staff:
        raise SubmissionRefused("The deadline has passed: this assignment is closed.", 403)
    return lateness.days_late > 0


def limits_in_words() -> str | None:
    """The limits check_throttle applies to a student, for the assignment page."""
    waiting = current_app.config["MAX_WAITING_SUBMISSIONS"]
    hourly = current_app.config["SUBMISSIONS_PER_HOUR"]
    across = current_app.config["MAX_IN_FLIGHT_PER_STUDENT"]
    parts = [f"{waiting} waiting to be graded at once"] if waiting else []
    parts += [f"{hourly} an hour"] if hourly else []
    parts += [f"{across} waiting across all your assignments"] if across else []
    return f"At most {' and '.join(parts)}." if parts else None


def check_throttle(user: User, assignment: Assignment, now: datetime) -> None:
    """Refuse (429) a student's submission while too many of theirs for this assignment wait
    to be graded, or when they submitted too often in the last hour: one student cannot fill
    the queue on deadline night, nor probe the hidden cases at machine speed."""
    if user.is_staff:
        return
    config = current_app.config
    waiting_cap, hourly_cap = config["MAX_WAITING_SUBMISSIONS"], config["SUBMISSIONS_PER_HOUR"]
    student_cap = config["MAX_IN_FLIGHT_PER_STUDENT"]
    if not (waiting_cap or hourly_cap or student_cap):
        return
    # PostgreSQL: lock the student's row until this submission commits, so two uploads sent
    # at once are counted one after the other. SQLite (the one-machine default) has no row
    # locks: there, two uploads in the same instant may both pass.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    theirs = select(func.count(Submission.id)).where(Submission.user_id == user.id)
    mine = theirs.where(Submission.assignment_id == assignment.id)
    # never graded yet (a regrade of a graded submission does not count)
    finished = exists().where(
        GradingRun.submission_id == Submission.id,
        GradingRun.status.in_(RunState.finals()),
    )
    if student_cap:
        in_flight = db.session.scalar(theirs.where(~finished))
        if in_flight >= student_cap:
            raise SubmissionRefused(
                f"You have {in_flight} submissions waiting to be graded across your "
                f"assignments, the most allowed at once; submit again once one has its result.",
                429,
            )
    if waiting_cap:
        waiting = db.session.scalar(mine.where(~finished))
        if waiting >= waiting_cap:
            raise SubmissionRefused(
                f"You have {plural(waiting, 'submission')} of {assignment.title} still waiting "
                "to be graded; submit again once they have their result.",
                429,
            )
    if hourly_cap:
        recent = db.session.scalar(mine.where(Submission.created_at > now - timedelta(hours=1)))
        if recent >= hourly_cap:
            raise SubmissionRefused(
                f"You have submitted {assignment.title} {plural(recent, 'time')} in the last "
                "hour, the most allowed; try again later (test locally with the public tests "
                "meanwhile).",
                429,
            )


def create_submission(
    user: User, assignment: Assignment, uploads: list[tuple[str, bytes]]
) -> Submission:
    """Store the submission, its files and a queued run in one transaction, then enqueue it.

    Raises SubmissionRefused (nothing stored) when the upload or the timing is not accepted.
    """
    now = utcnow()
    late = check_open(user, assignment, now)
    check_throttle(user, assignment, now)
    suite = assignment.current_suite
    try:
        files = validate_upload(uploads, suite.config)
    except UploadError as exc:
        raise SubmissionRefused(str(exc), exc.status) from exc
    submission = Submission(user=user, assignment=assignment, created_at=now, late=late)
    submission.files = [SubmissionFile.of(name, data) for name, data in sorted(files.items())]
    run = GradingRun(suite=suite, enqueued_at=now, queue=queue_for(suite))
    submission.runs = [run]
    db.session.add(submission)
    db.session.commit()
    enqueue_grading(submission.id, run.queue)  # only after commit: the worker must find it
    return submission


def queue_regrade(submission: Submission, suite: Suite) -> GradingRun | None:
    """Add (not commit) a queued run of `submission` with `suite`; None when its latest run is
    still queued or running (that run stands). The one way a regrade run is made."""
    latest = submission.latest_run
    if latest is not None and not latest.status.is_final:
        return None
    run = GradingRun(
        submission=submission, suite=suite, enqueued_at=utcnow(), queue=queue_for(suite)
    )
    db.session.add(run)
    return run


def request_regrade(submission: Submission) -> GradingRun:
    """Queue a new run with the assignment's current suite; the shown result stays until the
    new run is graded. A run still queued or running is returned instead of adding another."""
    suite = submission.assignment.current_suite
    if suite is None:
        raise SubmissionRefused("This assignment has no test suite.", 409)
    run = queue_regrade(submission, suite)
    if run is None:
        return submission.latest_run
    db.session.commit()
    enqueue_grading(submission.id, run.queue)
    return run


@dataclass(frozen=True)
class RegradeCount:
    """What regrading a whole assignment did."""

    queued: int  # submissions given a new run with the current suite
    busy: int  # submissions left alone: their latest run is still queued or running


def regrade_assignment(assignment: Assignment) -> RegradeCount:
    """Queue a run with the current suite for every submission of `assignment`; commit once,
    then enqueue (earlier results stay shown until each new run is graded)."""
    suite = assignment.current_suite
    if suite is None:
        raise SubmissionRefused("This assignment has no test suite.", 409)
    submissions = db.session.scalars(
        select(Submission)
        .where(Submission.assignment_id == assignment.id)
        .order_by(Submission.id)
        .options(selectinload(Submission.runs))
    ).all()
    runs = [(s.id, queue_regrade(s, suite)) for s in submissions]
    queued = [(submission_id, run.queue) for submission_id, run in runs if run is not None]
    db.session.commit()
    for submission_id, queue in queued:
        enqueue_grading(submission_id, queue)
    return RegradeCount(queued=len(queued), busy=len(submissions) - len(queued))


def acknowledge_failure(submission: Submission, staff: User) -> GradingRun | None:
    """Record that `staff` reviewed the submission's failed latest run (under
    FAILED_RUN_POLICY "hold" its earlier score then counts again); the run, or None when
    its latest ended run did not fail."""
    run = submission.failed_run
    if run is None:
        return None
    if run.acknowledged_at is None:
        run.acknowledged_at, run.acknowledged_by = utcnow(), staff
        db.session.commit()
    return run
