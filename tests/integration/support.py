"""Helpers shared by the integration tests: the API as one user sees it, package files, a
module's own broker database and the app that sends to it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import redis
from flask import Flask
from flask.testing import FlaskClient

from grader.package import load_package
from webapp import create_app
from webapp.extensions import db

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENTS = REPO / "assignments"
GRADE_TIMEOUT_S = 180.0
PASSWORD = "integration-pass-1"


class Api:
    """The JSON API as one user sees it (bearer token from `flask tokens create`)."""

    def __init__(self, app: Flask, username: str) -> None:
        result = app.test_cli_runner().invoke(args=["tokens", "create", username])
        assert result.exit_code == 0, result.output
        self.client: FlaskClient = app.test_client()
        self.headers = {"Authorization": f"Bearer {result.output.strip()}"}

    def submit(self, slug: str, files: dict[str, bytes]):
        data = {"files": [(BytesIO(content), name) for name, content in files.items()]}
        return self.client.post(
            f"/api/v1/assignments/{slug}/submissions",
            data=data,
            headers=self.headers,
            content_type="multipart/form-data",
        )

    def submission(self, submission_id: int):
        return self.client.get(f"/api/v1/submissions/{submission_id}", headers=self.headers)

    def wait_graded(self, submission_id: int, timeout: float = GRADE_TIMEOUT_S) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.submission(submission_id).get_json()
            if body["status"] in ("graded", "failed"):
                return body
            time.sleep(0.25)
        raise AssertionError(f"submission {submission_id} still {body['status']} after {timeout}s")


def fresh_broker(db_number: int) -> str:
    """The URL of Redis database `db_number`, emptied: a module's own broker, so no worker of
    another module takes its messages."""
    url = f"redis://127.0.0.1:6379/{db_number}"
    redis.Redis.from_url(url, socket_timeout=5).flushdb()
    return url


@contextmanager
def app_on(env: dict, **config: object) -> Iterator[Flask]:
    """An app on `env`'s database and broker (testing mode, `config` on top), its engine
    disposed afterwards (before the session drops the scratch database)."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": env["DATABASE_URL"],
            "REDIS_URL": env["REDIS_URL"],
            "SECRET_KEY": env["SECRET_KEY"],
            **config,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def package_files(slug: str, folder: str, tail: bytes = b"") -> dict[str, bytes]:
    """The files of an assignment's solution/ or starter/ (over the solution), or of a mutant
    ("mutants/<name>", a folder or a patch), as the package loader materialises it; `tail` is
    appended to the first file (code that stalls or slows every case that imports it)."""
    files = _package_files(slug, folder)
    if tail:
        first = sorted(files)[0]
        files[first] += tail
    return files


def _package_files(slug: str, folder: str) -> dict[str, bytes]:
    if folder.startswith("mutants/"):
        return load_package(ASSIGNMENTS / slug).mutants()[folder.removeprefix("mutants/")]
    root = ASSIGNMENTS / slug
    files = {p.name: p.read_bytes() for p in sorted((root / "solution").glob("*.py"))}
    if folder != "solution":
        files.update({p.name: p.read_bytes() for p in sorted((root / folder).glob("*.py"))})
    return files
