"""Server-side sessions: a login lives in a user_sessions row, so logout, a password change,
"sign out everywhere" (one's own, an instructor's, the CLI's) end it even in a copied cookie;
and the session cookie's production flags."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select, update

from tests.conftest import PASSWORD
from webapp import create_app
from webapp.config import Config
from webapp.extensions import db
from webapp.models import Role, UserSession, utcnow
from webapp.user_sessions import SESSION_KEY

NEW_PASSWORD = "a-new-long-password"


def login(client, username: str = "alice", password: str = PASSWORD, agent: str = "Firefox"):
    response = client.post(
        "/login", data={"username": username, "password": password}, headers={"User-Agent": agent}
    )
    assert response.status_code == 302, response.data
    return response


def logged_in(client) -> bool:
    return client.get("/assignments").status_code == 200


def copy_cookie(app, source, target) -> None:
    """Put `source`'s session cookie into `target`, as someone who stole it would."""
    name = app.config["SESSION_COOKIE_NAME"]
    target.set_cookie(name, source.get_cookie(name).value)


def rows(app) -> list[UserSession]:
    with app.app_context():
        return list(db.session.scalars(select(UserSession).order_by(UserSession.id)))


def test_login_stores_only_a_digest(app, client, make):
    """A login adds one row holding the sha256 of the cookie's random id, and the browser."""
    make.user("alice")
    login(client, agent="X" * 500)
    name = app.config["SESSION_COOKIE_NAME"]
    data = app.session_interface.get_signing_serializer(app).loads(client.get_cookie(name).value)
    [row] = rows(app)
    assert row.session_sha256 == hashlib.sha256(data[SESSION_KEY].encode()).hexdigest()
    assert data[SESSION_KEY] not in row.session_sha256
    assert row.user_agent == "X" * 200


def test_copied_cookie_stops_working_after_logout(app, client, make, auth):
    """A session cookie copied before logout is refused after it."""
    make.user("alice")
    login(client)
    thief = app.test_client()
    copy_cookie(app, client, thief)
    assert logged_in(thief)
    auth.logout()
    assert not logged_in(client)
    assert not logged_in(thief)
    assert rows(app) == []


def test_password_change_ends_other_logins(app, client, make):
    """Changing the password keeps this login and ends every other one; the new password
    works and the old one no longer does."""
    make.user("alice")
    login(client)
    other = app.test_client()
    login(other)
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert logged_in(client)
    assert not logged_in(other)
    assert len(rows(app)) == 1
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "alice", "password": PASSWORD}).status_code == 401
    login(fresh, password=NEW_PASSWORD)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"current": "nope-nope-nope", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}, b"wrong"),
        ({"current": PASSWORD, "new": "short", "confirm": "short"}, b"10 to 200 characters"),
        ({"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"}, b"differ"),
    ],
)
def test_password_change_is_checked(app, client, make, form, message):
    """A wrong current password, a short one, or two different new ones change nothing."""
    make.user("alice")
    login(client)
    response = client.post("/account/password", data=form)
    assert response.status_code == 400
    assert message in response.data
    client.post("/logout")
    login(client)  # the old password still works


def test_wrong_current_passwords_are_throttled(client, make):
    """Guessing the current password on a borrowed session meets the login throttle."""
    make.user("alice")
    login(client)
    form = {"current": "guess-guess-guess", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    codes = [client.post("/account/password", data=form).status_code for _ in range(12)]
    assert codes[:10] == [400] * 10 and codes[10:] == [429, 429]
    response = client.post("/account/password", data={**form, "current": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert b"Too many failed attempts" in response.data


def test_sign_out_everywhere(app, client, make):
    """One's own button ends every login, this one included."""
    make.user("alice")
    login(client)
    other = app.test_client()
    login(other)
    page = client.get("/account")
    assert b"Sign out everywhere" in page.data and b"this browser" in page.data
    response = client.post("/account/signout-everywhere")
    assert response.headers["Location"] == "/login"
    assert not logged_in(client)
    assert not logged_in(other)
    assert rows(app) == []


def test_instructor_signs_a_person_out(app, client, make):
    """From the roster page an instructor ends every login of another person; a TA may not."""
    make.people()
    alice = app.test_client()
    login(alice)
    login(client, "tina")
    assert client.post("/staff/people/signout", data={"username": "alice"}).status_code == 403
    assert logged_in(alice)
    client.post("/logout")
    login(client, "ivan")
    assert b"Sign a person out everywhere" in client.get("/instructor/roster").data
    response = client.post("/staff/people/signout", data={"username": "alice"})
    assert response.headers["Location"] == "/instructor/roster"
    assert not logged_in(alice)
    assert logged_in(client)
    page = client.post("/staff/people/signout", data={"username": "nobody"}, follow_redirects=True)
    assert b"No user &#39;nobody&#39;" in page.data


def test_cli_signs_a_person_out(app, client, make, runner):
    """`flask users signout NAME` ends every login of NAME."""
    make.user("alice")
    login(client)
    result = runner.invoke(args=["users", "signout", "alice"])
    assert result.exit_code == 0, result.output
    assert "alice: signed out everywhere (1 logins ended)" in result.output
    assert not logged_in(client)
    assert runner.invoke(args=["users", "signout", "nobody"]).exit_code != 0


def test_remember_cookie_logs_nobody_in(app, client, make):
    """Remember-me is never issued, and a validly signed one carries no session: refused."""
    user_id = make.user("alice", Role.INSTRUCTOR)
    with app.app_context():
        value = encode_cookie(str(user_id))
    client.set_cookie("remember_token", value)
    assert not logged_in(client)


def test_last_seen_is_touched_at_most_once_a_minute(app, client, make):
    make.user("alice")
    login(client)
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    logged_in(client)
    [first] = rows(app)
    assert utcnow() - first.last_seen_at < timedelta(seconds=30)
    logged_in(client)
    [second] = rows(app)
    assert second.last_seen_at == first.last_seen_at


def test_rows_past_the_cookie_lifetime_are_dead_and_pruned(app, client, make):
    """A row idle longer than a cookie can live logs nobody in, and the next login of that
    person deletes it."""
    make.user("alice")
    login(client)
    too_old = utcnow() - app.permanent_session_lifetime - timedelta(minutes=5)
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=too_old))
        db.session.commit()
    assert not logged_in(client)
    login(app.test_client())
    assert [r.last_seen_at > too_old for r in rows(app)] == [True]


def test_production_cookie_flags(monkeypatch, tmp_path):
    """With no environment override the session cookie is Secure, HttpOnly, SameSite=Lax and
    named __Host- ; SESSION_COOKIE_SECURE=0 (plain-http development) turns that off."""
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    config = Config(str(tmp_path))
    assert config.SESSION_COOKIE_SECURE is True
    assert config.SESSION_COOKIE_HTTPONLY is True
    assert config.SESSION_COOKIE_SAMESITE == "Lax"
    assert config.SESSION_COOKIE_NAME == "__Host-dlgrader_session"
    for off in ("0", "false", "No"):
        monkeypatch.setenv("SESSION_COOKIE_SECURE", off)
        config = Config(str(tmp_path))
        assert config.SESSION_COOKIE_SECURE is False
        assert config.SESSION_COOKIE_NAME == "dlgrader_session"
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "yes please")  # a typo keeps it on
    assert Config(str(tmp_path)).SESSION_COOKIE_SECURE is True


def test_production_login_sets_a_host_cookie(app_config, make, monkeypatch):
    """The cookie a login sets under production settings: __Host- name, Path=/, no Domain."""
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    settings = {
        k: v
        for k, v in app_config.items()
        if k not in ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_NAME")
    }
    make.user("alice")  # in the database both apps share
    app = create_app(settings)
    cookie = login(app.test_client()).headers["Set-Cookie"]
    assert cookie.startswith("__Host-dlgrader_session=")
    for flag in ("Secure", "HttpOnly", "Path=/", "SameSite=Lax"):
        assert flag in cookie
    assert "Domain" not in cookie
    with app.app_context():
        db.engine.dispose()


def test_compose_web_sets_secure_cookies():
    """The docker-compose web service turns the Secure cookie on explicitly."""
    from tests.test_compose import resolved_config

    environment = resolved_config()["services"]["web"]["environment"]
    assert environment["SESSION_COOKIE_SECURE"] == "1"
