"""The issue's 'done when' as a person does it: a student logs in with a real browser, uploads
the backprop reference through the form, and watches it reach full marks without reloading."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from tests.integration.support import ASSIGNMENTS, PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.browser]
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"]


@pytest.fixture
def site(live_app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def test_student_submits_the_reference_in_a_browser_and_sees_full_marks(worker, site):
    solution = ASSIGNMENTS / "backprop" / "solution"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(base_url=site)
        page.goto("/login")
        page.fill("#username", "ana")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.goto("/assignments/backprop")
        page.set_input_files(
            "input[type=file]", [str(solution / "layers.py"), str(solution / "mlp.py")]
        )
        page.get_by_role("button", name="Submit for grading").click()
        expect(page).to_have_url(re.compile(r"/submissions/\d+$"))
        expect(page.locator("#live-status .badge")).to_have_text("graded", timeout=120_000)
        expect(page.get_by_text("100 / 100")).to_be_visible()
        expect(page.get_by_text("20 of 20 cases passed")).to_be_visible()
        browser.close()


def test_a_bad_upload_is_refused_in_the_page_with_a_clear_message(worker, site):
    solution = ASSIGNMENTS / "backprop" / "solution"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(base_url=site)
        page.goto("/login")
        page.fill("#username", "ben")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.goto("/assignments/backprop")
        page.set_input_files("input[type=file]", [str(solution / "layers.py")])
        page.get_by_role("button", name="Submit for grading").click()
        expect(page.get_by_text("Missing: mlp.py")).to_be_visible()
        page.goto("/submissions")
        expect(page.get_by_text("backprop", exact=False)).to_have_count(0)
        browser.close()
