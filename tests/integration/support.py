"""Helpers shared by the integration tests: the API as one user sees it, package files."""

from __future__ import annotations

import time
from io import BytesIO
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from grader.package import load_package

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


def package_files(slug: str, folder: str) -> dict[str, bytes]:
    """The files of an assignment's solution/ or starter/ (over the solution), or of a mutant
    ("mutants/<name>", a folder or a patch), as the package loader materialises it."""
    if folder.startswith("mutants/"):
        return load_package(ASSIGNMENTS / slug).mutants()[folder.removeprefix("mutants/")]
    root = ASSIGNMENTS / slug
    files = {p.name: p.read_bytes() for p in sorted((root / "solution").glob("*.py"))}
    if folder != "solution":
        files.update({p.name: p.read_bytes() for p in sorted((root / folder).glob("*.py"))})
    return files
