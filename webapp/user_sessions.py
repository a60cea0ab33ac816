"""Server-side login sessions: a login is a `UserSession` row, and the Flask session cookie
carries only its random id. The user loader accepts a cookie only while its row lives, so
logging out, changing the password or "sign out everywhere" ends a login for good, even in
a copy of the cookie. Remember-me cookies are never issued, and one presented is refused
(it carries no session id).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, request, session
from flask_login import login_user, logout_user

from webapp.extensions import db
from webapp.models import User, UserSession, utcnow

SESSION_KEY = "dlg_sid"
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at precision: spare a write per request


def _oldest_live() -> datetime:
    """Rows last seen before this cannot match a cookie Flask still accepts: Flask refuses a
    cookie signed more than PERMANENT_SESSION_LIFETIME ago, and a row is touched at least
    as often as the cookie is rewritten, within TOUCH_EVERY."""
    return utcnow() - current_app.permanent_session_lifetime - TOUCH_EVERY


def begin(user: User) -> None:
    """Log `user` in: a new session row (commits), its id in the cookie, Flask-Login's login."""
    end_row()
    UserSession.revoke(user.id, older_than=_oldest_live())  # prune dead rows
    _row, raw = UserSession.start(user, request.user_agent.string)
    db.session.commit()
    session[SESSION_KEY] = raw
    login_user(user)


def load(user_id: str) -> User | None:
    """Flask-Login's user loader: the user, only if this cookie's session row is live."""
    raw = session.get(SESSION_KEY)
    if not isinstance(raw, str) or not user_id.isdecimal():
        return None
    row = UserSession.find(int(user_id), raw)
    if row is None or row.last_seen_at < _oldest_live():
        return None
    now = utcnow()
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return row.user


def current_row() -> UserSession | None:
    """The session row of this request's cookie, if live."""
    raw = session.get(SESSION_KEY)
    user_id = session.get("_user_id")
    if not isinstance(raw, str) or not str(user_id or "").isdecimal():
        return None
    return UserSession.find(int(user_id), raw)


def end_row() -> None:
    """Delete this cookie's session row, if any, and forget its id (commits)."""
    row = current_row()
    if row is not None:
        db.session.delete(row)
        db.session.commit()
    session.pop(SESSION_KEY, None)


def end() -> None:
    """Log out here: this login's row is deleted, so a copied cookie stops working too."""
    end_row()
    logout_user()


def revoke_others(user: User) -> int:
    """End every login of `user` but this request's (commits); returns how many."""
    row = current_row()
    count = UserSession.revoke(user.id, keep=row.id if row is not None else None)
    db.session.commit()
    return count


def revoke_all(user: User) -> int:
    """End every login of `user`, wherever (commits); returns how many. The caller logs the
    current request out too when it is `user`'s."""
    count = UserSession.revoke(user.id)
    db.session.commit()
    return count
