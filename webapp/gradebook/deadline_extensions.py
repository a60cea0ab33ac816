"""Per-student extensions: a later deadline on one assignment, granted by staff with a reason.
Granting again replaces the earlier extension; the gradebook and submitting read the due time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import Assignment, Extension, User, utcnow

REASON_MAX = 500


class ExtensionRefused(ValueError):
    """The extension cannot be granted; the message says why."""


def grant_extension(
    assignment: Assignment, student: User | None, due: datetime, reason: str, staff: User
) -> Extension:
    """Give `student` until `due` (aware UTC) on `assignment`, replacing any earlier one."""
    reason = reason.strip()
    if student is None or student.is_staff:
        raise ExtensionRefused("extensions are for students: no such student")
    if assignment.deadline is None:
        raise ExtensionRefused(f"{assignment.slug} has no deadline to extend")
    if due <= assignment.deadline:
        raise ExtensionRefused("the extension must end after the assignment's deadline")
    if not reason or len(reason) > REASON_MAX:
        raise ExtensionRefused(f"give a reason (at most {REASON_MAX} characters)")
    extension = db.session.scalar(
        select(Extension).where(
            Extension.assignment_id == assignment.id, Extension.user_id == student.id
        )
    ) or Extension(assignment=assignment, user=student)
    extension.due, extension.reason = due, reason
    extension.granted_by, extension.granted_at = staff, utcnow()
    db.session.add(extension)
    db.session.commit()
    return extension


def revoke_extension(extension_id: int) -> Extension | None:
    """Remove an extension; the removed row, or None when there was none."""
    extension = db.session.get(Extension, extension_id)
    if extension is not None:
        db.session.delete(extension)
        db.session.commit()
    return extension


def all_extensions() -> list[Extension]:
    """Every extension, by assignment then student, with its people and assignment loaded."""
    return list(
        db.session.scalars(
            select(Extension)
            .join(Extension.user)
            .order_by(Extension.assignment_id, User.username)
            .options(
                selectinload(Extension.user),
                selectinload(Extension.assignment),
                selectinload(Extension.granted_by),
            )
        )
    )


def extensions_of(user_id: int) -> dict[int, datetime]:
    """Assignment id -> the student's extended due time."""
    rows = db.session.execute(
        select(Extension.assignment_id, Extension.due).where(Extension.user_id == user_id)
    )
    return dict(rows.all())
