"""Roster import (CLI and instructor page): every bad row reported, nothing created unless
every row is good; missing passwords are generated and shown once."""

from __future__ import annotations

import io

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Role, User

GOOD = (
    "username,display_name,role,password\n"
    "s1001,Ana Lima,,\n"
    "s1002,Ben Ode,student,ben-password-1\n"
    "ta.kim,Kim TA,ta,\n"
)
BAD = (
    "username,display_name,role,password\n"
    "s1001,Ana Lima,,\n"
    "Bad Name,Someone,student,\n"  # line 3: username
    "s1003,,student,\n"  # line 4: display name
    "s1004,Dee,professor,\n"  # line 5: role
    "s1005,Eve,student,short\n"  # line 6: password
    "s1001,Ana Again,,\n"  # line 7: duplicate
    "alice,Alice Twin,,\n"  # line 8: exists
)


def usernames(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(User.username)))


def test_cli_import_creates_all_and_prints_generated_passwords(runner, app, tmp_path):
    """Good rows are all created; generated passwords are printed as username,password."""
    path = tmp_path / "roster.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())  # with the BOM spreadsheets write
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 0, result.output
    printed = dict(line.split(",") for line in result.output.splitlines()[1:])
    assert sorted(printed) == ["s1001", "ta.kim"]
    with app.app_context():
        assert User.by_username("s1001").check_password(printed["s1001"])
        assert User.by_username("s1002").check_password("ben-password-1")
        assert User.by_username("ta.kim").role is Role.TA
        assert User.by_username("s1001").display_name == "Ana Lima"


def test_cli_import_is_all_or_nothing(runner, app, make, tmp_path):
    """One bad row -> nothing created, and every bad row is reported with its line."""
    make.user("alice")
    path = tmp_path / "roster.csv"
    path.write_text(BAD)
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code != 0
    for expected in (
        "line 3: username 'Bad Name'",
        "line 4: display_name",
        "line 5: role 'professor'",
        "line 6: password",
        "line 7: username 's1001' appears twice",
        "username 'alice' already exists",
        "nothing was imported",
    ):
        assert expected in result.output
    assert usernames(app) == ["alice"]


def test_cli_import_needs_the_columns(runner, app, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("user,name\nx,y\n")
    result = runner.invoke(args=["users", "import", str(path)])
    assert "missing columns: username, display_name" in result.output
    assert usernames(app) == []


def upload(client, text: str):
    data = {"roster": (io.BytesIO(text.encode()), "roster.csv")}
    return client.post("/instructor/roster", data=data)


def test_page_import_all_or_nothing(client, auth, app, make):
    """The instructor page lists every problem and creates nothing; a good file creates all."""
    make.user("ivan", Role.INSTRUCTOR)
    make.user("alice")
    auth.login("ivan")
    response = upload(client, BAD)
    assert response.status_code == 400
    assert b"Nothing was imported" in response.data
    assert b"line 5: role &#39;professor&#39;" in response.data
    assert usernames(app) == ["alice", "ivan"]
    response = upload(client, GOOD)
    assert response.status_code == 200
    assert b"Imported 3 people." in response.data
    assert usernames(app) == ["alice", "ivan", "s1001", "s1002", "ta.kim"]
