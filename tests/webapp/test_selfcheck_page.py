"""The instructor's suite page in a real (headless) Chromium: a package uploaded through the form
lands on its suite page, whose self-check status follows the database live (queued -> running
-> failed, then the report) under the site's CSP."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from grader.selfcheck import MUTANT, REFERENCE, STARTER, RunReport, SelfCheckReport
from tests.package_zips import BATCHNORM, zip_folder
from webapp.models import Assignment, Role
from webapp.selfcheck import claim_selfcheck, record_selfcheck

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "chromium"


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app served over HTTP on a free port, in a thread of this process."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def page(live_server):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(base_url=live_server)
        yield page
        browser.close()


def failing_report(slug: str, sha256: str) -> SelfCheckReport:
    runs = (
        RunReport("reference", REFERENCE, 10.0, 10.0, (), 0.5),
        RunReport("starter", STARTER, 0.0, 10.0, ("train_forward", "backward"), 0.5),
        RunReport("no_op", MUTANT, 10.0, 10.0, (), 0.5),
    )
    return SelfCheckReport(slug, sha256, 10.0, runs, "", 2.0)


def test_upload_then_live_selfcheck_status(app, make, page, tmp_path: Path):
    make.user("ivan", Role.INSTRUCTOR)
    archive = tmp_path / "batchnorm.zip"
    archive.write_bytes(zip_folder(BATCHNORM))
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto("/login")
    page.fill("#username", "ivan")
    page.fill("#password", "correct-horse-1")
    page.click("button[type=submit]")
    page.goto("/instructor/upload")
    page.set_input_files("#package", str(archive))
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("Batch normalisation: suite versions")
    badge = page.locator(".selfcheck-status .badge")
    expect(badge).to_have_text("queued")
    with app.app_context():
        suite = Assignment.by_slug("batchnorm").current_suite
        suite_id, sha = suite.id, suite.sha256
        assert claim_selfcheck(suite_id)
    expect(badge).to_have_text("running", timeout=6000)
    with app.app_context():
        record_selfcheck(suite_id, failing_report("batchnorm", sha))
    expect(page.locator("table.selfcheck")).to_contain_text("SURVIVED", timeout=6000)
    expect(badge).to_have_text("failed")
    expect(page.locator("ul.problems")).to_contain_text("mutant no_op scores full marks")
    assert errors == []
