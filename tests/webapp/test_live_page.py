"""The submission page in a real (headless) Chromium: the status follows the database live,
queued -> running -> graded, without a manual reload, under the site's CSP."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from grader.job import CaseResult, CaseStatus, GradingResult, RunStatus
from webapp import grading

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
                cases=[CaseResult("double_small", 3, 10, CaseStatus.FAILED, "<b>close</b>")],
            ),
        )
    expect(page.locator("strong", has_text="3 / 10")).to_be_visible(timeout=5000)
    expect(badge).to_have_text("graded")
    expect(page.locator("table.cases")).to_contain_text("<b>close</b>")  # shown as text
    assert errors == []
