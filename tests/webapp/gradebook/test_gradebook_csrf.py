"""With CSRF on (as in production), every gradebook form carries the token and a POST
without it changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.webapp.gradebook.gradebook_support import set_policy, worked_example
from webapp.extensions import db
from webapp.models import Category

FORM_RE = re.compile(r'<form method="post"(.*?)</form>', re.S)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def login(client, username: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    data = {"username": username, "password": "correct-horse-1", "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302


def test_every_gradebook_form_carries_the_token(app, client, make):
    ids = worked_example(app, make)
    set_policy(app, ids["a1"], rule="active")
    pages = {
        "ivan": ["/gradebook/scheme", "/gradebook/extensions", "/gradebook/import",
                 "/gradebook/items/written1/scores"],
        "alice": ["/grades"],
    }  # fmt: skip
    for username, paths in pages.items():
        login(client, username)
        for path in paths:
            forms = FORM_RE.findall(client.get(path).get_data(as_text=True))
            assert forms, path
            assert all('name="csrf_token"' in form for form in forms), path
        client.post("/logout", data={"csrf_token": "x"})
        client.delete_cookie(app.config["SESSION_COOKIE_NAME"])


def test_post_without_token_changes_nothing(app, client, make):
    worked_example(app, make)
    login(client, "ivan")
    with app.app_context():
        weights = sorted(db.session.scalars(select(Category.weight)))
        prog = db.session.scalar(select(Category.id).where(Category.name == "Programming"))
    response = client.post("/gradebook/scheme/categories", data={f"weight-{prog}": "100"})
    assert response.status_code == 400
    with app.app_context():
        assert sorted(db.session.scalars(select(Category.weight))) == weights
