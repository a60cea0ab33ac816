"""The issue's 'done when' as a person does it: a student logs in with a real browser, uploads
the backprop reference through the form, and watches it reach full marks without reloading."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from grader.package import load_package
from tests.browser_support import browser_page, serve
from tests.integration.support import ASSIGNMENTS, PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.browser]


@pytest.fixture
def page(live_app) -> Iterator[Page]:
    with serve(live_app) as url, browser_page(url) as page:
        yield page


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_student_submits_the_reference_in_a_browser_and_sees_full_marks(worker, page):
    solution = ASSIGNMENTS / "backprop" / "solution"
    log_in(page, "ana")
    page.goto("/assignments/backprop")
    page.set_input_files(
        "input[type=file]", [str(solution / "layers.py"), str(solution / "mlp.py")]
    )
    page.get_by_role("button", name="Submit for grading").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+$"))
    expect(page.locator("#live-status .badge")).to_have_text("graded", timeout=120_000)
    expect(page.get_by_text("100 / 100")).to_be_visible()
    cases = len(load_package(ASSIGNMENTS / "backprop").config.cases)
    expect(page.get_by_text(f"{cases} of {cases} cases passed")).to_be_visible()
    expect(page.get_by_text(f"All {cases} cases passed.")).to_be_visible()


def test_a_bad_upload_is_refused_in_the_page_with_a_clear_message(worker, page):
    solution = ASSIGNMENTS / "backprop" / "solution"
    log_in(page, "ben")
    page.goto("/assignments/backprop")
    page.set_input_files("input[type=file]", [str(solution / "layers.py")])
    page.get_by_role("button", name="Submit for grading").click()
    expect(page.get_by_text("Missing: mlp.py")).to_be_visible()
    page.goto("/submissions")
    expect(page.get_by_text("backprop", exact=False)).to_have_count(0)
