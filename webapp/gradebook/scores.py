"""Typed-in scores of manual items (exams, the project): entered on a page or imported from a
CSV, checked as a whole and stored all at once or not at all.

The CSV has one score per line, with a header: `username,item,score`. `item` is the item's
key (e.g. written1); a blank score leaves that student's score as it is. Every bad line is
reported: unknown student, unknown or autograded item, a score that is not a number, negative
or above the item's max, or the same student and item twice.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import GradeItem, ManualScore, Role, User

CSV_COLUMNS = ("username", "item", "score")
MAX_ROWS = 50_000


class ScoreError(ValueError):
    """Scores were refused; `problems` lists every bad row ("line N: ...")."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ScoreChange:
    user_id: int
    item_id: int
    score: float | None  # None: remove the score


def check_score(text: str, item: GradeItem) -> tuple[float | None, str | None]:
    """The score in `text` for `item`, or the reason it is refused."""
    try:
        value = float(text)
    except ValueError:
        return None, f"score {text!r} is not a number"
    if not math.isfinite(value):
        return None, f"score {text!r} is not a number"
    if value < 0:
        return None, f"score {value:g} is negative"
    if item.max_score is not None and value > item.max_score:
        return None, f"score {value:g} is above the max {item.max_score:g} of {item.key}"
    return value, None


def parse_scores_csv(data: bytes) -> list[ScoreChange]:
    """The changes a scores CSV asks for; ScoreError lists every bad line."""
    try:
        text = data.decode("utf-8-sig")  # spreadsheets often write a BOM
    except UnicodeDecodeError:
        raise ScoreError(["the file is not UTF-8 text"]) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ScoreError(
            [
                f"missing {'column' if len(missing) == 1 else 'columns'}: {', '.join(missing)}"
                f" (the header must be "
                f"{','.join(CSV_COLUMNS)})"
            ]
        )
    students, items = _students(), _manual_items()
    changes, problems, seen = [], [], set()
    for record in reader:
        line = reader.line_num
        if line > MAX_ROWS:
            raise ScoreError([f"at most {MAX_ROWS} lines per import"])
        change, row_problems = _parse_row(record, students, items)
        pair = ((record.get("username") or "").strip(), (record.get("item") or "").strip())
        if pair in seen:
            row_problems.append(f"{pair[0]} has a second score for {pair[1]}")
        seen.add(pair)
        problems += [f"line {line}: {p}" for p in row_problems]
        if change is not None:
            changes.append(change)
    if problems:
        raise ScoreError(problems)
    return changes


def _parse_row(
    record: dict[str | None, str | None], students: dict[str, int], items: dict[str, GradeItem]
) -> tuple[ScoreChange | None, list[str]]:
    username = (record.get("username") or "").strip()
    key = (record.get("item") or "").strip()
    text = (record.get("score") or "").strip()
    problems = []
    if None in record:  # csv puts extra cells under the key None
        problems.append("more cells than columns")
    if username not in students:
        problems.append(f"unknown student {username!r}")
    item = items.get(key)
    if item is None:
        problems.append(_unknown_item(key))
    if not text or item is None:
        return None, problems
    score, problem = check_score(text, item)
    if problem:
        problems.append(problem)
    if problems:
        return None, problems
    return ScoreChange(students[username], item.id, score), []


def _unknown_item(key: str) -> str:
    exists = db.session.scalar(select(GradeItem.id).where(GradeItem.key == key))
    if exists is not None:
        return f"item {key!r} is autograded: its score comes from submissions"
    return f"unknown item {key!r}"


def _students() -> dict[str, int]:
    query = select(User.username, User.id).where(User.role == Role.STUDENT)
    return dict(db.session.execute(query).all())


def _manual_items() -> dict[str, GradeItem]:
    items = db.session.scalars(select(GradeItem).where(GradeItem.assignment_id.is_(None)))
    return {i.key: i for i in items}


def parse_item_form(item: GradeItem, form: Mapping[str, str]) -> list[ScoreChange]:
    """The scores typed for one item (`score-<user id>`; blank removes it); ScoreError lists
    every bad one by username."""
    names = {v: k for k, v in _students().items()}
    changes, problems = [], []
    for user_id, username in names.items():
        field = f"score-{user_id}"
        if field not in form:
            continue
        text = form[field].strip()
        score, problem = check_score(text, item) if text else (None, None)
        if problem:
            problems.append(f"{username}: {problem}")
        else:
            changes.append(ScoreChange(user_id, item.id, score))
    if problems:
        raise ScoreError(problems)
    return changes


def apply_scores(changes: list[ScoreChange], entered_by: User) -> int:
    """Store the changes in one commit; the number of scores that changed."""
    item_ids = {c.item_id for c in changes}
    existing = {
        (s.user_id, s.item_id): s
        for s in db.session.scalars(select(ManualScore).where(ManualScore.item_id.in_(item_ids)))
    }
    changed = 0
    for change in changes:
        row = existing.get((change.user_id, change.item_id))
        if change.score is None:
            if row is not None:
                db.session.delete(row)
                changed += 1
            continue
        if row is None:
            row = ManualScore(user_id=change.user_id, item_id=change.item_id, score=change.score)
            db.session.add(row)
        elif row.score == change.score:
            continue
        row.score, row.entered_by_id = change.score, entered_by.id
        changed += 1
    db.session.commit()
    return changed
