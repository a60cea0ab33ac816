"""The `flask --app webapp ...` commands: users, tokens, assignments sync, demo."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ApiToken, Assignment, Role, User
from webapp.models.users import TOKEN_PREFIX, token_digest


def test_users_create(runner, app):
    """`users create NAME --role R --password P` creates a person who can log in."""
    result = runner.invoke(
        args=["users", "create", "tina", "--role", "ta", "--password", "s3cret-pw"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = User.by_username("tina")
        assert user.role is Role.TA and user.check_password("s3cret-pw")
        assert user.password_hash.startswith("scrypt:")


def test_users_create_refuses_duplicates_and_bad_input(runner, make):
    """An existing name, a bad name or a short password is an error, not a second user."""
    make.user("alice")
    for args in (["alice"], ["Bad Name!"], ["carl", "--password", "short"]):
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code != 0
    assert "already exists" in runner.invoke(args=["users", "create", "alice"]).output


def test_users_create_generates_a_password(runner, app):
    result = runner.invoke(args=["users", "create", "dora"])
    password = result.output.strip().rsplit(" ", 1)[-1]
    with app.app_context():
        assert User.by_username("dora").check_password(password)


def test_tokens_create_prints_only_the_token(runner, app, make):
    """The output is exactly the token, usable as a bearer token; only its hash is stored."""
    make.user("alice")
    result = runner.invoke(args=["tokens", "create", "alice"])
    assert result.exit_code == 0
    raw = result.output.strip()
    assert result.output == raw + "\n" and raw.startswith(TOKEN_PREFIX)
    with app.app_context():
        assert db.session.scalars(select(ApiToken.token_sha256)).all() == [token_digest(raw)]
    response = app.test_client().get(
        "/api/v1/assignments", headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 200


def test_tokens_create_unknown_user(runner):
    result = runner.invoke(args=["tokens", "create", "ghost"])
    assert result.exit_code != 0 and "no user 'ghost'" in result.output


def test_demo_creates_people_once(runner, app):
    """`demo` creates five people with known passwords and is safe to run twice."""
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0
    assert "instructor-demo" in first.output
    second = runner.invoke(args=["demo"])
    assert "exists" in second.output
    with app.app_context():
        roles = sorted(u.role.value for u in db.session.scalars(select(User)))
        assert roles == ["instructor", "student", "student", "student", "ta"]
        assert User.by_username("instructor").check_password("instructor-demo")


def test_assignments_sync_creates_then_versions(runner, app, make):
    """sync creates and publishes new assignments, skips unchanged ones, versions changed ones."""
    folder = make.package_dir("toy")
    root = str(folder.parent)
    result = runner.invoke(args=["assignments", "sync", root])
    assert result.exit_code == 0, result.output
    assert "toy: suite v1" in result.output
    assert "unchanged (suite v1)" in runner.invoke(args=["assignments", "sync", root]).output
    with app.app_context():
        assignment = Assignment.by_slug("toy")
        assignment.published = False
        db.session.commit()
    (folder / "hidden" / "cases.py").write_text("def double_small(ctx):\n    return {'x': 1}\n")
    assert "toy: suite v2" in runner.invoke(args=["assignments", "sync", root]).output
    with app.app_context():
        assignment = Assignment.by_slug("toy")
        assert assignment.published is True
        assert [s.version for s in assignment.suites] == [1, 2]
        assert assignment.current_suite.version == 2
        assert assignment.current_suite.seed != assignment.suites[0].seed
        assert assignment.max_score == 10.0
        assert assignment.current_suite.handout.startswith("# Toy")


def test_assignments_sync_reports_bad_packages(runner, app, make):
    """A broken package is reported and skipped; good ones still load; the exit code says so."""
    make.package_dir("good")
    bad = make.package_dir("bad")
    (bad / "solution" / "layers.py").unlink()
    result = runner.invoke(args=["assignments", "sync", str(bad.parent)])
    assert result.exit_code != 0
    assert "bad: not loaded: solution/layers.py is missing" in result.output
    with app.app_context():
        assert [a.slug for a in db.session.scalars(select(Assignment))] == ["good"]


def test_assignments_sync_default_folder_is_the_repo(runner, app):
    """Without DIR, sync reads the repository's assignments/ folder: one line per package
    (whether each package is complete yet is the assignment tests' business)."""
    root = Path(app.root_path).parent / "assignments"
    folders = sorted(p.parent.name for p in root.glob("*/assignment.toml"))
    assert folders, "the repository ships assignments"
    output = runner.invoke(args=["assignments", "sync"]).output
    assert (
        sorted(
            line.split(":", 1)[0]
            for line in output.splitlines()
            if ": " in line and not line.startswith("Error")
        )
        == folders
    )
