"""The pages people live in, walked in a real (headless) Chromium at 1366x768 and on a phone
(390x844): what each role must see, no sideways scrolling on the student's pages, and no
"serious" or "critical" finding from axe-core (vendored in tests/vendor/axe-core, a test tool
the app never serves: the test routes a made-up same-origin URL to it, so the site's CSP stays
as it is)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from grader.job import CaseOutcome, CaseStatus, GradingResult, RunStatus
from tests.browser_support import BROWSER_ARGS, CHROMIUM, serve
from tests.conftest import PASSWORD
from tests.webapp.gradebook.gradebook_support import worked_example
from webapp.jobs import grading
from webapp.jobs.liveness import RunHeartbeat
from webapp.models import Assignment

pytestmark = pytest.mark.browser

AXE = Path(__file__).parents[1] / "vendor" / "axe-core" / "axe.min.js"
AXE_URL = "/__test-only__/axe.min.js"  # answered by the test's route, never by the app
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
HANDOUT = """# Toy

Implement `double` in `layers.py`:

```python
def double(x: np.ndarray) -> np.ndarray:
    return x * 2  # a line long enough to need wrapping on a phone, or a scroll box otherwise
```

$$
{equation}
$$
""".format(
    equation=(  # wider than a phone
        r"L(\theta) = -\frac{1}{N}\sum_{n=1}^{N}\sum_{k=1}^{K} y_{nk} \log \mathrm{softmax}"
        r"(W_2\,\mathrm{relu}(W_1 x_n + b_1) + b_2)_k"
        r" + \frac{\lambda}{2}\left(\lVert W_1 \rVert_F^2 + \lVert W_2 \rVert_F^2\right)"
    )
)
TRACEBACK = (
    "Traceback (frames in your files):\n"
    '  File "/submission/layers.py", line 2, in double\n'
    "NotImplementedError\n"
)
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(app, make) -> Iterator[dict]:
    """The gradebook's worked example (alice, bob, tina the TA, ivan the instructor, a1..a4)
    and alice's toy submission graded with one failing case, served over HTTP."""
    ids = worked_example(app, make)
    toy = make.assignment("toy", package=make.package(handout=HANDOUT))
    ids["toy_sub"] = make.submission(ids["alice"], toy)
    with app.app_context():
        claim = grading.claim_run(ids["toy_sub"], worker="w1")
        grading.store_result(
            claim,
            GradingResult(
                status=RunStatus.GRADED,
                score=7,
                max_score=10,
                cases=[
                    CaseOutcome("double_small", 0, 3, CaseStatus.ERROR, "raised", detail="boom"),
                    CaseOutcome("double_large", 7, 7, CaseStatus.PASSED, "ok"),
                ],
                log=TRACEBACK * 5,
            ),
        )
    with serve(app) as url:
        yield {"url": url, **ids}


def open_as(browser: Browser, url: str, username: str, viewport: dict) -> Page:
    """A fresh page logged in as `username`, with axe-core reachable at AXE_URL."""
    context = browser.new_context(base_url=url, viewport=viewport)
    context.route(AXE_URL, lambda route: fulfil_axe(route))
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


def fulfil_axe(route: Route) -> None:
    route.fulfill(path=AXE, content_type="text/javascript")


def axe_findings(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    page.add_script_tag(url=AXE_URL)
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return [
        f"{v['id']} ({v['impact']}): {', '.join(v['nodes'][:3])}"
        for v in violations
        if v["impact"] in SERIOUS
    ]


def check_page(page: Page, path: str, *, phone: bool) -> None:
    """Open `path`: one h1, no serious axe finding, and on a phone no sideways scrolling."""
    page.goto(path)
    expect(page.locator("h1")).to_have_count(1)
    assert axe_findings(page) == [], path
    if phone:
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (path, widths)
        assert page.locator("header.site").bounding_box()["height"] < 80, path


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_a_student_walks_from_the_assignments_to_their_grades(browser, site, viewport):
    """Assignment list -> assignment -> a result -> My submissions -> My grades."""
    phone = viewport is PHONE
    page = open_as(browser, site["url"], "alice", viewport)
    check_page(page, "/assignments", phone=phone)
    expect(page.get_by_role("link", name="Toy assignment toy")).to_be_visible()
    check_page(page, "/assignments/toy", phone=phone)
    expect(page.get_by_role("heading", name="Toy", exact=True)).to_have_count(1)  # an h2 now
    equation = page.locator(".handout div.math")
    expect(equation.locator(".katex-display")).to_have_count(1)  # typeset by KaTeX
    if phone:  # wider than a phone: it scrolls in its own box, which takes keyboard focus
        expect(equation).to_have_attribute("tabindex", "0")
    check_page(page, f"/submissions/{site['toy_sub']}", phone=phone)
    expect(page.get_by_text("1 of 2 cases did not pass")).to_be_visible()
    expect(page.locator("table.cases tbody tr").first).to_have_id("case-double_small")
    expect(page.get_by_role("link", name="Submit again")).to_be_visible()
    expect(page.get_by_text("Sandbox log")).to_have_count(0)  # staff only
    check_page(page, "/submissions", phone=phone)
    expect(page.get_by_role("link", name=str(site["toy_sub"]), exact=True)).to_be_visible()
    if phone:  # a card: each cell labelled, the score on screen
        score = page.locator("td[data-label=Score]").first
        assert score.bounding_box()["x"] + score.bounding_box()["width"] <= PHONE["width"]
    check_page(page, "/grades", phone=phone)
    expect(page.get_by_text("Written exams").first).to_be_visible()
    page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_a_ta_reads_the_gradebook_a_students_grades_and_operations(browser, site, viewport):
    """The gradebook fits 1366 px with names frozen (on a phone its items scroll in their own
    box, names still frozen); a student's grades; operations."""
    page = open_as(browser, site["url"], "tina", viewport)
    check_page(page, "/gradebook", phone=False)
    box = page.locator(".gradebook-scroll")
    if viewport is DESKTOP:
        assert box.evaluate("e => e.scrollWidth <= e.clientWidth"), "items hidden in a box"
    name = page.locator("table.gradebook tbody th[scope=row]").first
    assert name.evaluate("e => getComputedStyle(e).position") == "sticky"
    expect(page.get_by_role("link", name="Alice")).to_be_visible()
    check_page(page, "/gradebook/students/alice", phone=False)
    expect(page.locator("h1")).to_contain_text("Alice")
    expect(page.get_by_text("Written exams").first).to_be_visible()
    check_page(page, "/staff/operations", phone=False)
    expect(page.get_by_role("heading", name="Workers")).to_be_visible()
    check_page(page, f"/submissions/{site['toy_sub']}", phone=False)
    expect(page.get_by_text("×5")).to_be_visible()  # the five tracebacks, shown once
    page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_an_instructor_manages_assignments_suites_and_the_roster(browser, site, viewport):
    """Manage assignments (the deadline and every late rule in one form), an assignment's
    suites, the roster."""
    page = open_as(browser, site["url"], "ivan", viewport)
    check_page(page, "/instructor/assignments", phone=False)
    expect(page.get_by_text("a4").first).to_be_visible()
    expect(page.get_by_label("Penalty/day (%) for Toy assignment toy")).to_be_visible()
    check_page(page, "/instructor/assignments/toy/suites", phone=False)
    expect(page.get_by_text("v1").first).to_be_visible()
    check_page(page, "/instructor/roster", phone=False)
    expect(page.get_by_label("Roster CSV")).to_be_visible()
    page.context.close()


def test_a_running_submission_counts_its_seconds_without_announcing_each(browser, app, make):
    """'running' then 'for N s' going up; the count is hidden from screen readers, whose
    polite live region is left for the status and a line every 30 s."""
    sub_id = make.submission(make.user("alice"), make.assignment("toy"))
    with app.app_context():
        claim = grading.claim_run(sub_id, worker="w1")
        first = Assignment.by_slug("toy").current_suite.config.cases[0].name
    with serve(app) as url, RunHeartbeat(app.config["REDIS_URL"], claim) as beat:
        page = open_as(browser, url, "alice", PHONE)
        page.goto(f"/submissions/{sub_id}")
        expect(page.locator("#live-status .badge")).to_have_text("running")
        elapsed = page.locator("#elapsed")
        expect(elapsed).to_have_attribute("aria-hidden", "true")
        expect(elapsed).to_have_text(re.compile(r"^for [1-9]\d* s$"), timeout=3000)
        beat.case_started(first)  # the worker's word, picked up by the page's next poll
        expect(page.locator("#running-case")).to_have_text(
            re.compile(rf"^now in case 1 of \d+: {first}$"), timeout=3000
        )
        assert axe_findings(page) == []
        page.context.close()
