"""Login, logout, sessions and CSRF on the web pages."""

from __future__ import annotations


def test_login_page_renders(client):
    """The login form is reachable without a session."""
    response = client.get("/login")
    assert response.status_code == 200
    assert b'name="password"' in response.data


def test_pages_require_login(client):
    """Anonymous visitors are sent to the login page, keeping where they wanted to go."""
    response = client.get("/assignments")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_login_and_logout(client, auth, make):
    """A right password opens a session; logging out closes it."""
    make.user("alice")
    response = auth.login("alice")
    assert response.status_code == 302
    assert client.get("/assignments").status_code == 200
    auth.logout()
    assert client.get("/assignments").status_code == 302


def test_wrong_password_is_refused(client, auth, make):
    """A wrong password or an unknown user gives the same message and no session."""
    make.user("alice")
    for username, password in (("alice", "wrong-password"), ("nobody", auth.password)):
        response = auth.login(username, password)
        assert response.status_code == 401
        assert b"Wrong username or password." in response.data
    assert client.get("/assignments").status_code == 302


def test_login_ignores_offsite_next(client, auth, make):
    """After login only same-site paths are followed (no open redirect)."""
    make.user("alice")
    response = client.post(
        "/login?next=//evil.example/x", data={"username": "alice", "password": auth.password}
    )
    assert response.headers["Location"] == "/assignments"


def test_session_cookie_is_samesite_lax(client, auth, make):
    """The session cookie is HttpOnly and SameSite=Lax."""
    make.user("alice")
    cookie = auth.login("alice").headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie


def test_logout_is_post_only(client, auth, make):
    """A GET cannot log anyone out (no state change on GET)."""
    make.user("alice")
    auth.login("alice")
    assert client.get("/logout").status_code == 405
