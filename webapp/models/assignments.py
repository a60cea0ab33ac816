"""Assignments, the versions of their hidden suites, and cached reference outputs."""

from __future__ import annotations

import enum
import secrets
import tomllib
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grader import AssignmentConfig, Package, config_from_dict, config_to_dict, parse_config
from webapp.extensions import db
from webapp.models.types import UTCDateTime, enum_type, utcnow


class LatePolicy(enum.StrEnum):
    """After the deadline: accept and flag late ("open"), or refuse ("closed")."""

    OPEN = "open"
    CLOSED = "closed"


class SelfCheckStatus(enum.StrEnum):
    """A suite version's self-check: unchecked -> queued -> running -> passed | failed."""

    UNCHECKED = "unchecked"
    QUEUED = "queued"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"  # a rule is broken, or the check could not complete (see its report)

    @property
    def in_flight(self) -> bool:
        return self in (SelfCheckStatus.QUEUED, SelfCheckStatus.RUNNING)


class Assignment(db.Model):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(default=False)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late_policy: Mapped[LatePolicy] = mapped_column(
        enum_type(LatePolicy, "late_policy"), default=LatePolicy.OPEN
    )
    # The suite new submissions are graded with; an explicit pointer so a new version can be
    # uploaded and checked before it goes live. use_alter: the two tables refer to each other.
    current_suite_id: Mapped[int | None] = mapped_column(
        ForeignKey("suites.id", use_alter=True, ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    suites: Mapped[list[Suite]] = relationship(
        back_populates="assignment",
        foreign_keys="Suite.assignment_id",
        order_by="Suite.version",
        cascade="all, delete-orphan",
    )
    current_suite: Mapped[Suite | None] = relationship(
        foreign_keys=[current_suite_id], post_update=True
    )

    @classmethod
    def by_slug(cls, slug: str) -> Assignment | None:
        return db.session.scalar(select(cls).where(cls.slug == slug))

    @property
    def max_score(self) -> float | None:
        return self.current_suite.max_score if self.current_suite else None

    def add_suite(self, package: Package, make_current: bool = True) -> Suite:
        """Store `package` as this assignment's next suite version (current unless told not)."""
        latest = db.session.scalar(
            select(func.max(Suite.version)).where(Suite.assignment_id == self.id)
        )
        suite = Suite(
            assignment=self,
            version=(latest or 0) + 1,
            package_zip=package.zip_bytes,
            sha256=package.sha256,
            seed=secrets.randbits(63),
            config_toml=package.read("assignment.toml").decode("utf-8"),
            config_json=config_to_dict(package.config),
            handout=package.handout(),
            max_score=package.config.max_score,
        )
        db.session.add(suite)
        if make_current:
            self.current_suite = suite
        return suite


class Suite(db.Model):
    """One immutable version of an assignment's package (hidden cases, solution, data)."""

    __tablename__ = "suites"
    __table_args__ = (UniqueConstraint("assignment_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    package_zip: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # MBs: load on use
    sha256: Mapped[str] = mapped_column(String(64))
    # Secret per version: seeds the cases' inputs, so public tests never reveal them.
    seed: Mapped[int] = mapped_column(BigInteger)
    config_toml: Mapped[str] = mapped_column(Text)  # the package's assignment.toml, as written
    # Its configuration as parsed and validated when this version was stored (grader's
    # config_to_dict, versioned): read back as stored, never re-validated by a newer grader.
    config_json: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    handout: Mapped[str] = mapped_column(Text, default="")  # README.md, so pages need no zip
    max_score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The self-check (reference full, starter zero, mutants killed) gates going live.
    selfcheck_status: Mapped[SelfCheckStatus] = mapped_column(
        enum_type(SelfCheckStatus, "selfcheck_status"), default=SelfCheckStatus.UNCHECKED
    )
    selfcheck_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # SelfCheckReport
    selfcheck_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last status change
    # Make this version current and publish the assignment once its self-check passes.
    publish_when_checked: Mapped[bool] = mapped_column(default=False)

    assignment: Mapped[Assignment] = relationship(
        back_populates="suites", foreign_keys=[assignment_id]
    )

    @property
    def config(self) -> AssignmentConfig:
        """The configuration as validated when this version was stored (cheap: no zip, no
        TOML). A row stored before the schema existed, whose TOML the upgrade could not
        parse, is parsed here as it always was."""
        if self.config_json is not None:
            return config_from_dict(self.config_json)
        return parse_config(tomllib.loads(self.config_toml))

    def package(self) -> Package:
        return Package(zip_bytes=self.package_zip, config=self.config)


class ReferenceEntry(db.Model):
    """One unused draw and the reference outputs for it, computed ahead of time for a suite
    version and device (the grader's `bank_key`), as the grader serialised them. A grading
    run deletes the row it takes, so each draw grades one run. See webapp.jobs.reference_bank."""

    __tablename__ = "reference_bank"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
