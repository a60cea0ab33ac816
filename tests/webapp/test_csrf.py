"""CSRF: with protection on (as in production), forms without the token are refused."""

from __future__ import annotations

import io
import re

import pytest

from webapp.extensions import db
from webapp.models import ApiToken, Submission, User

CODE = b"def double(x):\n    return 2 * x\n"


@pytest.fixture
def app_config(app_config):
    """This module's app enforces CSRF, as production does."""
    return {**app_config, "WTF_CSRF_ENABLED": True}


def csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_login_without_csrf_token_is_refused(client, auth, make):
    """A login form posted without the CSRF token is refused (400); with it, it works."""
    make.user("alice")
    response = client.post("/login", data={"username": "alice", "password": auth.password})
    assert response.status_code == 400
    assert client.get("/assignments").status_code == 302
    token = csrf_token(client, "/login")
    data = {"username": "alice", "password": auth.password, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302


def test_post_without_csrf_token_is_refused(client, auth, make):
    """Every state-changing page refuses a POST without the token (CSRFProtect), 400."""
    make.user("alice")
    token = csrf_token(client, "/login")
    login = {"username": "alice", "password": auth.password, "csrf_token": token}
    assert client.post("/login", data=login).status_code == 302
    response = client.post("/logout")
    assert response.status_code == 400
    assert b"The form expired" in response.data
    assert client.get("/assignments").status_code == 200  # still logged in


def test_submission_form_without_token_stores_nothing(app, client, auth, make):
    """A cross-site POST to the upload form is refused before anything is stored."""
    make.user("alice")
    make.assignment("toy")
    token = csrf_token(client, "/login")
    login = {"username": "alice", "password": auth.password, "csrf_token": token}
    assert client.post("/login", data=login).status_code == 302
    data = {"files": [(io.BytesIO(CODE), "layers.py")]}
    response = client.post("/assignments/toy/submissions", data=data)
    assert response.status_code == 400
    with app.app_context():
        assert db.session.query(Submission).count() == 0


def test_api_is_exempt_but_needs_a_bearer_token(app, client, make):
    """The API takes no CSRF token: bearer tokens authenticate it; cookies alone cannot write."""
    alice = make.user("alice")
    make.assignment("toy")
    with app.app_context():
        _token, raw = ApiToken.issue(db.session.get_one(User, alice), "test")
        db.session.commit()
    data = {"files": [(io.BytesIO(CODE), "layers.py")]}
    response = client.post(
        "/api/v1/assignments/toy/submissions",
        data=data,
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 202
