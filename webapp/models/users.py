"""People, their API tokens and their login sessions."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db
from webapp.models.types import UTCDateTime, enum_type, utcnow

TOKEN_PREFIX = "dlg_"


class Role(enum.StrEnum):
    """What a person may do: students see their own work, staff see everyone's."""

    STUDENT = "student"
    TA = "ta"
    INSTRUCTOR = "instructor"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"), default=Role.STUDENT)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="ApiToken.id"
    )

    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.TA, Role.INSTRUCTOR)

    @property
    def is_instructor(self) -> bool:
        return self.role is Role.INSTRUCTOR

    @classmethod
    def by_username(cls, username: str) -> User | None:
        return db.session.scalar(select(cls).where(cls.username == username))

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"


def token_digest(raw: str) -> str:
    """What the database keeps of a token: its sha256, so a leaked table leaks no token."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        """A new token for `user` (added to the session) and the raw value, shown only once."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls(user=user, name=name, token_sha256=token_digest(raw))
        db.session.add(token)
        return token, raw

    @classmethod
    def find(cls, raw: str) -> ApiToken | None:
        return db.session.scalar(select(cls).where(cls.token_sha256 == token_digest(raw)))


class UserSession(db.Model):
    """One login in one browser. The session cookie holds a random id and this row its
    sha256: deleting the row ends that login, wherever the cookie has been copied to."""

    __tablename__ = "user_sessions"

    USER_AGENT_MAX = 200

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(USER_AGENT_MAX), default="")

    user: Mapped[User] = relationship()

    @classmethod
    def start(cls, user: User, user_agent: str) -> tuple[UserSession, str]:
        """A new session row for `user` (added to the db session) and the raw id for the
        cookie, which the database never holds."""
        raw = secrets.token_urlsafe(32)
        row = cls(
            user=user,
            session_sha256=token_digest(raw),
            user_agent=user_agent[: cls.USER_AGENT_MAX],
        )
        db.session.add(row)
        return row, raw

    @classmethod
    def find(cls, user_id: int, raw: str) -> UserSession | None:
        """The live row of `user_id` whose id is `raw`, else None."""
        return db.session.scalar(
            select(cls).where(cls.session_sha256 == token_digest(raw), cls.user_id == user_id)
        )

    @classmethod
    def revoke(
        cls, user_id: int, keep: int | None = None, older_than: datetime | None = None
    ) -> int:
        """Delete the user's sessions (all but the row `keep`; only those last seen before
        `older_than` when given); returns how many."""
        query = delete(cls).where(cls.user_id == user_id)
        if keep is not None:
            query = query.where(cls.id != keep)
        if older_than is not None:
            query = query.where(cls.last_seen_at < older_than)
        return db.session.execute(query).rowcount
