"""The instructor's suite page in a real (headless) Chromium: a package uploaded through the form
lands on its suite page, whose self-check status follows the database live (queued -> running
-> failed, then the report) under the site's CSP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from grader.selfcheck import MUTANT, REFERENCE, STARTER, RunReport, SelfCheckReport
from tests.browser_support import browser_page, serve
from tests.package_zips import BATCHNORM, zip_folder
from webapp.jobs.selfchecks import claim_selfcheck, record_selfcheck
from webapp.models import Assignment, Role

pytestmark = pytest.mark.browser


@pytest.fixture
def page(app) -> Iterator[Page]:
    with serve(app) as url, browser_page(url) as page:
        yield page


def failing_report(slug: str, sha256: str) -> SelfCheckReport:
    runs = (
        RunReport("reference", REFERENCE, (10.0,), 10.0, (), 0.5),
        RunReport("starter", STARTER, (0.0,), 10.0, ("train_forward", "backward"), 0.5),
        RunReport("no_op", MUTANT, (10.0,), 10.0, (), 0.5),
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
