"""The gradebook's data: categories and their items, typed-in scores, per-assignment counting
rules, per-student extensions and the submission a student chose to count.

The rules that turn these rows into grades live in webapp.gradebook.rules (pure functions);
webapp.gradebook.service feeds them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from webapp.models.assignments import Assignment
    from webapp.models.submissions import Submission
    from webapp.models.users import User

ITEM_KEY_MAX = 40  # the same length as an assignment slug: autograded items use the slug


class Category(db.Model):
    """A weighted part of the final grade; best_n None means every item counts."""

    __tablename__ = "grade_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    weight: Mapped[float] = mapped_column(Float)  # percent of the final grade
    best_n: Mapped[int | None]
    position: Mapped[int] = mapped_column(default=0)  # display order

    items: Mapped[list[GradeItem]] = relationship(
        back_populates="category",
        order_by="(GradeItem.position, GradeItem.id)",
        cascade="all, delete-orphan",
    )


class GradeItem(db.Model):
    """One gradebook column: an autograded assignment, or a manual item (an exam, the project)
    whose scores staff type in or import; manual items carry their own max_score."""

    __tablename__ = "grade_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("grade_categories.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(ITEM_KEY_MAX), unique=True)  # CSV/API column name
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), unique=True
    )
    max_score: Mapped[float | None] = mapped_column(Float)  # manual items only

    category: Mapped[Category] = relationship(back_populates="items")
    assignment: Mapped[Assignment | None] = relationship()

    @property
    def is_manual(self) -> bool:
        return self.assignment_id is None


class ManualScore(db.Model):
    """A score staff typed in or imported for one student and one manual item."""

    __tablename__ = "manual_scores"
    __table_args__ = (UniqueConstraint("item_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("grade_items.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ScoringPolicy(db.Model):
    """How an assignment's submissions turn into its gradebook score: which one counts and
    the late rules beyond Assignment.deadline and late_policy. No row: the defaults."""

    __tablename__ = "scoring_policies"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    )
    count_rule: Mapped[str] = mapped_column(String(16), default="last")  # rules.COUNT_RULES
    grace_minutes: Mapped[int] = mapped_column(default=0)
    penalty_per_day: Mapped[float] = mapped_column(Float, default=0.0)  # fraction, 0..1

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.grace_minutes)


class Extension(db.Model):
    """A later deadline for one student on one assignment, granted by staff with a reason."""

    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assignment: Mapped[Assignment] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])


class ActiveSubmission(db.Model):
    """The submission a student chose to count for an assignment (count rule "active")."""

    __tablename__ = "active_submissions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    )
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship()
