"""Submissions, their files, the grading runs made of them and each run's case results."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Float, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from webapp.models.assignments import Assignment, Suite
    from webapp.models.users import User


class RunState(enum.StrEnum):
    """A grading run's life: queued -> running -> graded | failed (running may go back to
    queued when its worker is lost or the sandbox is unavailable)."""

    QUEUED = "queued"
    RUNNING = "running"
    GRADED = "graded"
    FAILED = "failed"

    @classmethod
    def finals(cls) -> tuple[RunState, ...]:
        """The states a run ends in."""
        return (cls.GRADED, cls.FAILED)

    @property
    def is_final(self) -> bool:
        return self in RunState.finals()


class Submission(db.Model):
    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    late: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship()
    assignment: Mapped[Assignment] = relationship()
    files: Mapped[list[SubmissionFile]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="SubmissionFile.name"
    )
    runs: Mapped[list[GradingRun]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="GradingRun.id"
    )

    @property
    def latest_run(self) -> GradingRun | None:
        return self.runs[-1] if self.runs else None

    @property
    def result_run(self) -> GradingRun | None:
        """The run whose result is shown: the latest graded one (a regrade replaces it only
        once the new run is graded)."""
        return next((r for r in reversed(self.runs) if r.status is RunState.GRADED), None)

    @property
    def failed_run(self) -> GradingRun | None:
        """The latest run that ended, when it failed (a regrade queued since does not clear
        it; a graded one does); else None."""
        ended = next((r for r in reversed(self.runs) if r.status.is_final), None)
        return ended if ended is not None and ended.status is RunState.FAILED else None

    @property
    def status(self) -> RunState:
        latest = self.latest_run
        return latest.status if latest else RunState.QUEUED

    @property
    def message(self) -> str:
        """One line for the student: why the latest run failed, else the shown result's note."""
        latest, shown = self.latest_run, self.result_run
        if latest is not None and latest.status is RunState.FAILED:
            return latest.message
        return shown.message if shown else ""


class SubmissionFile(db.Model):
    __tablename__ = "submission_files"
    __table_args__ = (UniqueConstraint("submission_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))

    submission: Mapped[Submission] = relationship(back_populates="files")

    @classmethod
    def of(cls, name: str, content: bytes) -> SubmissionFile:
        return cls(
            name=name,
            content=content,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )


class GradingRun(db.Model):
    """One attempt at grading a submission with one suite version; the row owns the status."""

    __tablename__ = "grading_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    suite_id: Mapped[int] = mapped_column(ForeignKey("suites.id"), index=True)
    status: Mapped[RunState] = mapped_column(
        enum_type(RunState, "run_status"), default=RunState.QUEUED, index=True
    )
    attempt: Mapped[int] = mapped_column(default=0)  # claims so far; compared before storing
    # The Celery queue it was last sent to (cpu or gpu); webapp.jobs.routing decides it.
    queue: Mapped[str] = mapped_column(String(16), default="cpu", server_default="cpu")
    worker: Mapped[str | None] = mapped_column(String(255))
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # last sent
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text, default="")
    log_tail: Mapped[str] = mapped_column(Text, default="")
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A failed run staff have looked at: under FAILED_RUN_POLICY "hold" the submission's
    # earlier score counts again once its latest failed run is acknowledged.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    submission: Mapped[Submission] = relationship(back_populates="runs")
    suite: Mapped[Suite] = relationship()
    acknowledged_by: Mapped[User | None] = relationship()
    cases: Mapped[list[CaseResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="CaseResult.id"
    )


class CaseResult(db.Model):
    """One case of a graded run. `feedback` is the grader's own words (shown to everyone who
    may see the submission); `detail` (exception text) and `output` (what the case printed)
    are the student's code's words, shown to the student only as `visibility` allows
    (webapp.visibility decides)."""

    __tablename__ = "case_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("grading_runs.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    points: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))  # a grader.job.CaseStatus value
    feedback: Mapped[str] = mapped_column(Text, default="")
    seconds: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    output: Mapped[str] = mapped_column(Text, default="", server_default="")
    # a grader.package.VISIBILITIES value; rows stored before visibility existed are visible
    visibility: Mapped[str] = mapped_column(String(16), default="visible", server_default="visible")

    run: Mapped[GradingRun] = relationship(back_populates="cases")
