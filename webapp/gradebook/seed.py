"""The course's scheme as shipped: programming 30% (best 3 of 4, the autograded assignments),
written exams 30% (best 3 of 4), project 20%, end-semester exam 20%."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from webapp.extensions import db
from webapp.gradebook import rules
from webapp.models import Assignment, Category, GradeItem

PROGRAMMING = "programming"  # the assignment.toml category that goes to the programming part
MANUAL_MAX = 100.0


@dataclass(frozen=True)
class SeedCategory:
    name: str
    weight: float
    best_n: int | None
    manual: tuple[tuple[str, str], ...] = ()  # (key, title) of its typed-in items


COURSE = (
    SeedCategory("Programming assignments", 30, 3),
    SeedCategory(
        "Written exams",
        30,
        3,
        tuple((f"written{i}", f"Written exam {i}") for i in range(1, 5)),
    ),
    SeedCategory("Project", 20, None, (("project", "Kaggle-style project"),)),
    SeedCategory("End-semester exam", 20, None, (("final", "End-semester exam"),)),
)


def seed_course_scheme() -> list[str]:
    """Create the course's scheme when there is none; add programming assignments that are
    not in the gradebook yet. Safe to run again: what exists is left as it is."""
    messages = []
    if db.session.scalar(select(Category.id).limit(1)) is None:
        rules.check_weights({c.name: c.weight for c in COURSE})
        for position, spec in enumerate(COURSE):
            db.session.add(_category(spec, position))
        messages.append("created the course scheme: " + ", ".join(c.name for c in COURSE))
    db.session.flush()
    messages += _add_programming()
    db.session.commit()
    return messages or ["the gradebook scheme is up to date"]


def _category(spec: SeedCategory, position: int) -> Category:
    category = Category(name=spec.name, weight=spec.weight, best_n=spec.best_n, position=position)
    category.items = [
        GradeItem(key=key, title=title, max_score=MANUAL_MAX, position=i)
        for i, (key, title) in enumerate(spec.manual)
    ]
    return category


def _programming_category() -> Category | None:
    """Where programming assignments go: the category already holding autograded items, else
    the seeded one by name."""
    holder = db.session.scalar(
        select(Category)
        .join(GradeItem)
        .where(GradeItem.assignment_id.is_not(None))
        .order_by(Category.position)
        .limit(1)
    )
    return holder or db.session.scalar(select(Category).where(Category.name == COURSE[0].name))


def _add_programming() -> list[str]:
    listed = set(db.session.scalars(select(GradeItem.assignment_id)))
    keys = set(db.session.scalars(select(GradeItem.key)))
    new = [
        a
        for a in db.session.scalars(
            select(Assignment).order_by(
                Assignment.deadline.is_(None), Assignment.deadline, Assignment.slug
            )
        )
        if a.id not in listed and a.current_suite and a.current_suite.config.category == PROGRAMMING
    ]
    if not new:
        return []
    category = _programming_category()
    if category is None:
        return [f"not added (no category for them): {', '.join(a.slug for a in new)}"]
    messages = []
    position = max((i.position for i in category.items), default=-1) + 1
    for assignment in new:
        if assignment.slug in keys:
            messages.append(f"{assignment.slug}: not added, an item already uses that key")
            continue
        category.items.append(
            GradeItem(
                key=assignment.slug,
                title=assignment.title,
                assignment=assignment,
                position=position,
            )
        )
        position += 1
        messages.append(f"added {assignment.slug} to {category.name}")
    return messages
