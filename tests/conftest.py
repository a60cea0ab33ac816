"""Shared fixtures: the Flask app on a fresh database, its client and CLI runner, logins, and
small builders for test data (people, assignment packages, assignments).

The database is SQLite in a temporary folder, or, when TEST_DATABASE_URL is a PostgreSQL URL
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test), a scratch database created next to
it for the session and dropped afterwards. Celery publishes to kombu's in-memory
transport here, so no worker ever sees these tasks; `sent_tasks` reads what was sent.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import settings
from werkzeug.test import TestResponse

from grader.package import Package, load_package
from webapp import create_app
from webapp.extensions import db
from webapp.models import Assignment, GradingRun, Role, Submission, SubmissionFile, User

# Property tests draw new inputs on every developer run; CI (HYPOTHESIS_PROFILE=ci, set by
# .ci/run) replays a fixed sequence, so a merge is never decided by the draw. What a developer
# run finds becomes an explicit example next to its property.
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

PASSWORD = "correct-horse-1"
GOOD_CODE = b"def double(x):\n    return 2 * x\n"
TOML = """\
slug = "{slug}"
title = "Toy assignment {slug}"
summary = "A tiny assignment for tests"
files = [{files}]
max_file_kb = 4
{extra}

[[cases]]
name = "double_small"
points = 3

[[cases]]
name = "double_large"
points = 7
"""
FAST_SCRYPT = "scrypt:1024:8:1"  # still scrypt, cheap enough for hundreds of test logins
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
# Where scratch PostgreSQL databases are created (the migration tests always use one).
POSTGRES_URL = (
    TEST_DATABASE_URL
    if TEST_DATABASE_URL.startswith("postgresql")
    else "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def app_settings(database_uri: str, **extra: object) -> dict:
    """The settings every test app uses; `extra` overrides them."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_uri,
        "REDIS_URL": REDIS_URL,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": FAST_SCRYPT,
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_NAME": "dlgrader_session",  # plain http
        "LOGIN_THROTTLE_KEY_PREFIX": f"test:throttle:{secrets.token_hex(6)}",  # per test
        "CELERY": {"broker_url": "memory://"},
        # tests submit in bursts; tests/webapp/test_throttle.py sets and checks these limits
        "MAX_WAITING_SUBMISSIONS": 0,
        "MAX_IN_FLIGHT_PER_STUDENT": 0,
        "SUBMISSIONS_PER_HOUR": 0,
        **extra,
    }


@contextmanager
def scratch_postgres(base_url: str = POSTGRES_URL) -> Iterator[str]:
    """Create an empty database dlgrader_test_<random> next to `base_url`; drop it after."""
    name = f"dlgrader_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One scratch PostgreSQL database for the session (never the shared one itself)."""
    with scratch_postgres(TEST_DATABASE_URL) as url:
        yield url


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """An empty scratch PostgreSQL database for one test."""
    with scratch_postgres() as url:
        yield url


@pytest.fixture
def app_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict:
    """Override in a test module (or parametrize) to change settings before the app is built."""
    if TEST_DATABASE_URL.startswith("postgresql"):
        return app_settings(request.getfixturevalue("postgres_url"))
    return app_settings(TEST_DATABASE_URL or f"sqlite:///{tmp_path / 't.db'}")


@pytest.fixture
def app(app_config: dict) -> Iterator[Flask]:
    app = create_app(app_config)
    with app.app_context():
        db.drop_all()
        db.create_all()
        drain_tasks(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An app context for tests that use the models directly."""
    with app.app_context():
        yield


class AuthActions:
    """Log a test client in and out through the real login form."""

    password = PASSWORD

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, username: str, password: str = PASSWORD) -> TestResponse:
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self) -> TestResponse:
        return self.client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


class Builders:
    """Small builders for test data. Each call runs in its own app context and commits, so
    test code never shares a session with the requests it makes; they return ids."""

    def __init__(self, app: Flask, root: Path) -> None:
        self.app = app
        self.root = root

    def user(self, username: str, role: Role = Role.STUDENT, password: str = PASSWORD) -> int:
        with self.app.app_context():
            user = User(username=username, display_name=username.title(), role=role)
            user.set_password(password, method=FAST_SCRYPT)
            db.session.add(user)
            db.session.commit()
            return user.id

    def people(self) -> dict[str, int]:
        """Students alice and bob, TA tina, instructor ivan; username -> id."""
        return {
            "alice": self.user("alice"),
            "bob": self.user("bob"),
            "tina": self.user("tina", Role.TA),
            "ivan": self.user("ivan", Role.INSTRUCTOR),
        }

    def package_dir(
        self,
        slug: str = "toy",
        files: tuple[str, ...] = ("layers.py",),
        extra_toml: str = "",
        handout: str = "# Toy\n\nImplement `double`.\n",
    ) -> Path:
        """Write a minimal valid assignment folder; return its path."""
        folder = self.root / "packages" / slug
        for sub in ("starter", "solution", "hidden", "public_tests"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        file_list = ", ".join(f'"{f}"' for f in files)
        toml = TOML.format(slug=slug, files=file_list, extra=extra_toml)
        (folder / "assignment.toml").write_text(toml)
        (folder / "README.md").write_text(handout)
        (folder / "hidden" / "cases.py").write_text("def double_small(ctx):\n    return {}\n")
        (folder / "public_tests" / "test_public.py").write_text("def test_x():\n    pass\n")
        for name in files:
            (folder / "starter" / name).write_text(
                "def double(x):\n    raise NotImplementedError\n"
            )
            (folder / "solution" / name).write_text("def double(x):\n    return 2 * x\n")
        return folder

    def package(self, **kwargs: object) -> Package:
        return load_package(self.package_dir(**kwargs))

    def assignment(
        self, slug: str = "toy", published: bool = True, package: Package | None = None, **fields
    ) -> int:
        """An assignment whose current suite is `package` (default: a fresh toy package)."""
        package = package or self.package(slug=slug)
        with self.app.app_context():
            assignment = Assignment(
                slug=slug, title=package.config.title, published=published, **fields
            )
            db.session.add(assignment)
            db.session.flush()
            assignment.add_suite(package)
            db.session.commit()
            return assignment.id

    def submission(self, user_id: int, assignment_id: int, content: bytes = GOOD_CODE) -> int:
        """A submission with one queued run, stored directly (nothing is enqueued)."""
        with self.app.app_context():
            assignment = db.session.get_one(Assignment, assignment_id)
            suite = assignment.current_suite
            submission = Submission(user_id=user_id, assignment=assignment)
            submission.files = [SubmissionFile.of(n, content) for n in suite.config.files]
            submission.runs = [GradingRun(suite=suite)]
            db.session.add(submission)
            db.session.commit()
            return submission.id


@pytest.fixture
def make(app: Flask, tmp_path: Path) -> Builders:
    return Builders(app, tmp_path)


def run_of(submission_id: int) -> GradingRun:
    """The submission's latest run, read afresh from the database (inside an app context)."""
    db.session.expire_all()
    return db.session.get_one(Submission, submission_id).runs[-1]


@pytest.fixture
def sent_tasks(app: Flask):
    """A function returning (and removing) the (task name, args) sent to a queue so far."""
    return lambda queue=None: drain_tasks(app, queue)


def drain_tasks(app: Flask, queue: str | None = None) -> list[tuple[str, list]]:
    """Remove and return the (task name, args) sent to `queue` (all queues when None)."""
    celery_app = app.extensions["celery"]
    sent = []
    with celery_app.connection_for_read() as conn:
        for name in [queue] if queue else ["cpu", "gpu"]:
            simple = conn.SimpleQueue(name, no_ack=True)
            while True:
                try:
                    message = simple.get(block=False)
                except simple.Empty:
                    break
                sent.append((message.headers["task"], message.payload[0]))
            simple.close()
    return sent
