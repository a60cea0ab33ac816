"""Roster import: a CSV of people, created all at once or not at all.

Columns: username, display_name, role (default student), password (optional: one is
generated and reported back). Every bad row is reported; nothing is created unless all
rows are good.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Role, User

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD_CHARS = 8
MAX_ROWS = 5000
REQUIRED_COLUMNS = ("username", "display_name")
ROLE_NAMES = frozenset(r.value for r in Role)


@dataclass(frozen=True)
class RosterRow:
    username: str
    display_name: str
    role: Role
    password: str
    generated: bool  # the password was made up here and must be handed to the person


class RosterError(ValueError):
    """The roster has bad rows; `problems` lists every one ("line N: ...")."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def user_problems(username: str, display_name: str, role: str, password: str) -> list[str]:
    """What is wrong with one person's fields (shared by the roster and `users create`)."""
    problems = []
    if not USERNAME_RE.match(username):
        problems.append(f"username {username!r}: use 2-40 lowercase letters, digits, '.', '_', '-'")
    if not display_name or len(display_name) > 120:
        problems.append("display_name: required, at most 120 characters")
    if role not in ROLE_NAMES:
        problems.append(f"role {role!r}: must be student, ta or instructor")
    if password and len(password) < MIN_PASSWORD_CHARS:
        problems.append(f"password: at least {MIN_PASSWORD_CHARS} characters")
    return problems


def parse_roster(data: bytes) -> list[RosterRow]:
    """Parse and check a roster CSV against itself and the database; raise RosterError."""
    try:
        text = data.decode("utf-8-sig")  # spreadsheets often write a BOM
    except UnicodeDecodeError:
        raise RosterError(["the file is not UTF-8 text"]) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        word = "column" if len(missing) == 1 else "columns"
        raise RosterError([f"missing {word}: {', '.join(missing)}"])
    rows, problems, seen = [], [], set()
    for record in reader:
        line = reader.line_num
        row, row_problems = _parse_row(record)
        if row.username in seen:
            row_problems.append(f"username {row.username!r} appears twice")
        seen.add(row.username)
        problems += [f"line {line}: {p}" for p in row_problems]
        rows.append(row)
    if len(rows) > MAX_ROWS:
        problems.append(f"at most {MAX_ROWS} rows per import")
    problems += _existing(rows)
    if problems or not rows:
        raise RosterError(problems or ["the roster has no rows"])
    return rows


def _parse_row(record: dict[str, str | None]) -> tuple[RosterRow, list[str]]:
    def field(name: str) -> str:
        return (record.get(name) or "").strip()

    role = field("role") or Role.STUDENT.value
    password = field("password")
    problems = user_problems(field("username"), field("display_name"), role, password)
    if None in record:  # csv puts extra cells under the key None
        problems.append("more cells than columns")
    row = RosterRow(
        username=field("username"),
        display_name=field("display_name"),
        role=Role(role) if role in ROLE_NAMES else Role.STUDENT,  # a bad role is reported above
        password=password or generate_password(),
        generated=not password,
    )
    return row, problems


def _existing(rows: list[RosterRow]) -> list[str]:
    names = [r.username for r in rows]
    taken = db.session.scalars(select(User.username).where(User.username.in_(names))).all()
    return [f"username {name!r} already exists" for name in sorted(taken)]


def create_users(rows: list[RosterRow], hash_method: str) -> list[User]:
    """Create every row's user in one commit."""
    users = []
    for row in rows:
        user = User(username=row.username, display_name=row.display_name, role=row.role)
        user.set_password(row.password, method=hash_method)
        users.append(user)
    db.session.add_all(users)
    db.session.commit()
    return users
