"""The submission page in a real (headless) Chromium: the status follows the database live,
queued -> running -> graded, without a manual reload, under the site's CSP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from grader.job import CaseOutcome, CaseStatus, GradingResult, RunStatus
from tests.browser_support import browser_page, serve
from webapp.jobs import grading

pytestmark = pytest.mark.browser


@pytest.fixture
def page(app) -> Iterator[Page]:
    with serve(app) as url, browser_page(url) as page:
        yield page


def test_status_updates_live(app, make, page):
    """Claiming the run shows 'running'; storing the result shows the score and cases."""
    sub_id = make.submission(make.user("alice"), make.assignment("toy"))
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto("/login")
    page.fill("#username", "alice")
    page.fill("#password", "correct-horse-1")
    page.click("button[type=submit]")
    page.goto(f"/submissions/{sub_id}")
    badge = page.locator("#live-status .badge")
    expect(badge).to_have_text("queued")
    with app.app_context():
        claim = grading.claim_run(sub_id, worker="w1")
    expect(badge).to_have_text("running", timeout=5000)
    with app.app_context():
        grading.store_result(
            claim,
            GradingResult(
                status=RunStatus.GRADED,
                score=3,
                max_score=10,
                cases=[CaseOutcome("double_small", 3, 10, CaseStatus.FAILED, "<b>close</b>")],
            ),
        )
    expect(page.locator("strong", has_text="3 / 10")).to_be_visible(timeout=5000)
    expect(badge).to_have_text("graded")
    expect(page.locator("table.cases")).to_contain_text("<b>close</b>")  # shown as text
    assert errors == []
