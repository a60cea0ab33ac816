"""Editing the course scheme: categories (weights, best-N), their items, and each
assignment's counting rules (the shipped scheme is seeded by webapp.gradebook.seed).

Every change is checked as a whole first and applied only when all of it is good; a
SchemeError lists every problem so the form can show them together.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.gradebook import rules
from webapp.models import Assignment, Category, GradeItem, ManualScore, ScoringPolicy
from webapp.models.gradebook import ITEM_KEY_MAX
from webapp.words import plural

ITEM_KEY_RE = re.compile(rf"^[a-z0-9][a-z0-9_-]{{0,{ITEM_KEY_MAX - 1}}}$")
NAME_MAX = 80
MAX_GRACE_MINUTES = 7 * 24 * 60


class SchemeError(ValueError):
    """The requested change is refused; `problems` says every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_number(text: str, what: str, problems: list[str], integer: bool = False) -> float:
    """`text` as a finite number (0 and a problem when it is not one)."""
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        problems.append(f"{what}: {text!r} is not {kind}")
        return 0
    if not math.isfinite(value):
        problems.append(f"{what}: {text!r} is not a number")
        return 0
    return value


@dataclass(frozen=True)
class CategoryEntry:
    """One category row of the scheme form (id None: a new category)."""

    id: int | None
    name: str
    weight: float
    best_n: int | None
    position: int
    delete: bool = False


def parse_categories(form: Mapping[str, str], ids: list[int]) -> list[CategoryEntry]:
    """The category rows of the form (`name-<id>`, `weight-<id>`, ... and a `-new` row)."""
    problems: list[str] = []
    entries = [_parse_category(form, str(i), i, problems) for i in ids]
    if form.get("name-new", "").strip():
        entries.append(_parse_category(form, "new", None, problems))
    if problems:
        raise SchemeError(problems)
    return entries


def _parse_category(
    form: Mapping[str, str], suffix: str, cat_id: int | None, problems: list[str]
) -> CategoryEntry:
    name = form.get(f"name-{suffix}", "").strip()
    label = name or f"category {suffix}"
    best_text = form.get(f"best_n-{suffix}", "").strip()
    best_n = int(parse_number(best_text, f"{label} best N", problems, True)) if best_text else None
    return CategoryEntry(
        id=cat_id,
        name=name,
        weight=parse_number(form.get(f"weight-{suffix}", "").strip(), f"{label} weight", problems),
        best_n=best_n,
        position=int(
            parse_number(form.get(f"position-{suffix}", "0") or "0", label, problems, True)
        ),
        delete=form.get(f"delete-{suffix}") == "1",
    )


def save_categories(entries: list[CategoryEntry]) -> None:
    """Apply the category rows; refuse (SchemeError, nothing changed) unless all are good and
    the kept categories' weights add up to 100."""
    existing = {c.id: c for c in db.session.scalars(select(Category))}
    problems = _category_problems(entries, existing)
    if problems:
        raise SchemeError(problems)
    for entry in entries:
        category = existing.get(entry.id) if entry.id is not None else None
        if entry.delete:
            if category is not None:
                db.session.delete(category)
            continue
        if category is None:
            category = Category()
            db.session.add(category)
        category.name, category.weight = entry.name, entry.weight
        category.best_n, category.position = entry.best_n, entry.position
    db.session.commit()


def _category_problems(entries: list[CategoryEntry], existing: dict[int, Category]) -> list[str]:
    kept = [e for e in entries if not e.delete]
    problems = []
    for entry in kept:
        if not entry.name or len(entry.name) > NAME_MAX:
            problems.append(f"a category needs a name of 1-{NAME_MAX} characters")
        if entry.best_n is not None and entry.best_n < 1:
            problems.append(f"{entry.name}: best N must be at least 1 (blank: every item counts)")
    names = [e.name for e in kept]
    problems += [
        f"two categories are named {n!r}" for n in sorted(set(names)) if names.count(n) > 1
    ]
    for entry in entries:
        category = existing.get(entry.id) if entry.id is not None else None
        if entry.delete and category is not None and category.items:
            problems.append(
                f"{category.name}: move or remove its {plural(len(category.items), 'item')} first"
            )
    try:
        rules.check_weights({e.name: e.weight for e in kept})
    except rules.RuleError as exc:
        problems.append(str(exc))
    return problems


def add_manual_item(category: Category, key: str, title: str, max_text: str) -> GradeItem:
    """A new manual item (scores typed in or imported) at the end of `category`."""
    problems: list[str] = []
    key = key.strip()
    if not ITEM_KEY_RE.match(key):
        problems.append(f"key {key!r}: use lowercase letters, digits, '_' or '-' (at most 40)")
    elif _key_taken(key):
        problems.append(f"key {key!r} is already used by another item or assignment")
    max_score = parse_number(max_text.strip(), "max score", problems)
    if not problems and max_score <= 0:
        problems.append("max score must be more than 0")
    if problems:
        raise SchemeError(problems)
    item = GradeItem(key=key, title=title.strip() or key, max_score=max_score)
    return _append(category, item)


def add_assignment_item(category: Category, assignment: Assignment) -> GradeItem:
    """The assignment as an autograded item of `category` (its key is the slug)."""
    taken = db.session.scalar(select(GradeItem.id).where(GradeItem.assignment_id == assignment.id))
    if taken is not None or _key_taken(assignment.slug, allow_assignment=True):
        raise SchemeError([f"{assignment.slug} is already in the gradebook"])
    item = GradeItem(key=assignment.slug, title=assignment.title, assignment=assignment)
    return _append(category, item)


def _key_taken(key: str, allow_assignment: bool = False) -> bool:
    if db.session.scalar(select(GradeItem.id).where(GradeItem.key == key)) is not None:
        return True
    # a manual key may not shadow an assignment slug: the CSV and API name columns by key
    return not allow_assignment and Assignment.by_slug(key) is not None


def _append(category: Category, item: GradeItem) -> GradeItem:
    last = db.session.scalar(
        select(func.max(GradeItem.position)).where(GradeItem.category_id == category.id)
    )
    item.position = 0 if last is None else last + 1
    item.category = category
    db.session.add(item)
    db.session.commit()
    return item


@dataclass(frozen=True)
class ItemEntry:
    """One item row of the items form."""

    id: int
    title: str
    category_id: int
    position: int
    max_score: float | None  # manual items only
    delete: bool = False


def parse_items(form: Mapping[str, str], items: list[GradeItem]) -> list[ItemEntry]:
    """The item rows of the form (`title-<id>`, `category-<id>`, `position-<id>`, `max-<id>`);
    items without a row in the form are left as they are."""
    problems: list[str] = []
    entries = []
    for item in items:
        if f"category-{item.id}" not in form:
            continue
        get = lambda name, item=item: form.get(f"{name}-{item.id}", "").strip()  # noqa: E731
        max_score = (
            parse_number(get("max"), f"{item.key} max", problems) if item.is_manual else None
        )
        entries.append(
            ItemEntry(
                id=item.id,
                title=get("title") or item.title,
                category_id=int(
                    parse_number(get("category"), f"{item.key} category", problems, True)
                ),
                position=int(
                    parse_number(get("position") or str(item.position), item.key, problems, True)
                ),
                max_score=max_score,
                delete=get("delete") == "1",
            )
        )
    if problems:
        raise SchemeError(problems)
    return entries


def save_items(entries: list[ItemEntry]) -> None:
    """Apply the item rows (move, rename, reorder, new max, remove) all or nothing."""
    items = {i.id: i for i in db.session.scalars(select(GradeItem))}
    categories = set(db.session.scalars(select(Category.id)))
    problems = []
    for entry in entries:
        item = items[entry.id]
        if entry.category_id not in categories:
            problems.append(f"{item.key}: unknown category")
        if item.is_manual and not entry.delete:
            problems += _max_problems(item, entry.max_score)
    if problems:
        raise SchemeError(problems)
    for entry in entries:
        item = items[entry.id]
        if entry.delete:
            db.session.delete(item)  # the database drops its typed-in scores with it
            continue
        item.title, item.category_id, item.position = (
            entry.title[:200],
            entry.category_id,
            entry.position,
        )
        if item.is_manual:
            item.max_score = entry.max_score
    db.session.commit()


def _max_problems(item: GradeItem, max_score: float | None) -> list[str]:
    if max_score is None or max_score <= 0:
        return [f"{item.key}: max score must be more than 0"]
    above = db.session.scalar(
        select(func.count())
        .select_from(ManualScore)
        .where(ManualScore.item_id == item.id, ManualScore.score > max_score)
    )
    if not above:
        return []
    return [f"{item.key}: {plural(above, 'score')} above the new max {max_score:g}"]


def save_policy(assignment: Assignment, rule: str, grace_text: str, penalty_text: str) -> None:
    """Set which submission counts and the grace period (minutes) and per-day penalty (%)."""
    problems: list[str] = []
    if rule not in rules.COUNT_RULES:
        problems.append(f"count rule must be one of {', '.join(rules.COUNT_RULES)}")
    grace = int(parse_number(grace_text.strip() or "0", "grace (minutes)", problems, True))
    penalty = parse_number(penalty_text.strip() or "0", "penalty per day (%)", problems)
    if not 0 <= grace <= MAX_GRACE_MINUTES:
        problems.append(f"grace must be 0-{MAX_GRACE_MINUTES} minutes")
    if not 0 <= penalty <= 100:
        problems.append("penalty per day must be 0-100%")
    if problems:
        raise SchemeError(problems)
    policy = db.session.get(ScoringPolicy, assignment.id) or ScoringPolicy(
        assignment_id=assignment.id
    )
    policy.count_rule, policy.grace_minutes, policy.penalty_per_day = rule, grace, penalty / 100
    db.session.add(policy)
    db.session.commit()
