"""The operations page: staff see live workers, queue lengths, running, failed and stuck runs,
and re-queue a stuck run through the reconciler's own code (POST, CSRF, staff only)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from grader.job import GradingResult, RunStatus
from tests.conftest import run_of
from tests.webapp.jobs.fleet_support import FLEET_REDIS_URL, Heartbeats, heartbeats
from webapp import operations
from webapp.extensions import db
from webapp.jobs import grading, reconcile
from webapp.models import GradingRun, Role, RunState, utcnow

PAGE = "/staff/operations"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "REDIS_URL": FLEET_REDIS_URL}


@pytest.fixture
def beats() -> Heartbeats:
    yield from heartbeats()


@pytest.fixture
def runs(app, make) -> dict[str, int]:
    """Submissions whose runs are: fresh queued, running, failed, stale queued, lost running."""
    alice = make.user("alice")
    toy = make.assignment("toy")
    ids = {name: make.submission(alice, toy) for name in ("queued", "running", "failed")}
    ids |= {name: make.submission(alice, toy) for name in ("stale", "lost")}
    long_ago = utcnow() - timedelta(days=1)
    with app.app_context():
        claims = {
            n: grading.claim_run(ids[n], f"cpu@{n}-host") for n in ("running", "failed", "lost")
        }
        grading.fail_run(claims["failed"], "sandbox image missing")
        age(ids["stale"], enqueued_at=long_ago)
        age(ids["lost"], started_at=long_ago)
    return ids


def age(sub_id: int, **values) -> None:
    db.session.execute(
        update(GradingRun).where(GradingRun.submission_id == sub_id).values(**values)
    )
    db.session.commit()


def staff_client(make, auth, role: Role = Role.TA):
    make.user("tina", role)
    auth.login("tina")
    return auth.client


def test_students_may_not_see_or_requeue(app, client, auth, make, runs):
    auth.login("alice")
    assert client.get(PAGE).status_code == 403
    with app.app_context():
        run_id = run_of(runs["lost"]).id
    assert client.post(f"{PAGE}/runs/{run_id}/requeue").status_code == 403
    with app.app_context():
        assert run_of(runs["lost"]).status is RunState.RUNNING


def test_page_shows_workers_queues_running_failed_and_stuck(app, make, auth, beats, runs):
    beats.add("gpu@gpuhost", ("gpu",), gpus=("GPU-77aa",), concurrency=2)
    beats.add("cpu@cpuhost", ("cpu",), concurrency=8)
    beats.client.rpush("cpu", "m1", "m2")
    beats.client.rpush("cpu\x06\x163", "m3")  # a priority sub-queue of cpu
    client = staff_client(make, auth)
    html = client.get(PAGE).get_data(as_text=True)
    workers = section(html, "Workers")
    assert "gpu@gpuhost" in workers and "GPU-77aa" in workers and "cpu@cpuhost" in workers
    queues = section(html, "Queues")
    assert re.search(r"<td>cpu</td><td>3</td>\s*<td>2</td>\s*<td>1</td>", queues), queues
    assert re.search(r"<td>gpu</td><td>0</td>\s*<td>0</td>\s*<td>1</td>", queues), queues
    running = section(html, "Running")
    assert "cpu@running-host" in running and "cpu@lost-host" in running
    assert "sandbox image missing" in section(html, "Recent failures")
    stuck = section(html, "Stuck or lost runs")
    with app.app_context():
        stale_id, lost_id = run_of(runs["stale"]).id, run_of(runs["lost"]).id
        fresh_id = run_of(runs["queued"]).id
    assert f"Re-queue run {stale_id}" in stuck and f"Re-queue run {lost_id}" in stuck
    assert "not taken" in stuck and "past its limit" in stuck
    assert f"Re-queue run {fresh_id}" not in stuck


def test_no_worker_online_is_said_plainly(make, auth, beats):
    html = staff_client(make, auth).get(PAGE).get_data(as_text=True)
    assert "No grading worker is online" in html


def section(html: str, title: str) -> str:
    """The HTML from an <h2> with this title to the next <h2>."""
    start = html.index(f"<h2>{title}</h2>")
    end = html.find("<h2>", start + 1)
    return html[start : end if end > 0 else len(html)]


def test_requeue_a_lost_run_sends_it_again(app, make, auth, runs, sent_tasks):
    """The button does what the reconciler does: back to queued, worker cleared, re-sent."""
    client = staff_client(make, auth)
    with app.app_context():
        lost = run_of(runs["lost"]).id
    response = client.post(f"{PAGE}/runs/{lost}/requeue")
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    with app.app_context():
        run = run_of(runs["lost"])
        assert (run.status, run.worker, run.started_at, run.queue) == (
            RunState.QUEUED,
            None,
            None,
            "cpu",
        )
    assert sent_tasks("cpu") == [("webapp.grade_submission", [runs["lost"]])]
    assert f"Run {lost} is queued again on the cpu queue." in client.get(PAGE).get_data(True)


def test_requeue_of_a_run_that_is_not_stuck_changes_nothing(app, make, auth, runs, sent_tasks):
    client = staff_client(make, auth)
    with app.app_context():
        running = run_of(runs["running"]).id
    client.post(f"{PAGE}/runs/{running}/requeue")
    assert client.post(f"{PAGE}/runs/999999/requeue").status_code == 302
    with app.app_context():
        assert run_of(runs["running"]).status is RunState.RUNNING
    assert sent_tasks() == []
    assert "is not stuck (any more)" in client.get(PAGE).get_data(as_text=True)


def test_requeue_past_the_attempt_cap_is_a_staff_decision(app, make, runs, sent_tasks):
    """The reconciler fails a run lost MAX_ATTEMPTS times; staff may still send it again."""
    with app.app_context():
        age(runs["lost"], attempt=reconcile.MAX_ATTEMPTS)
        report = reconcile.requeue_stuck(run_of(runs["lost"]).id)
        assert report.requeued == [run_of(runs["lost"]).id]
        assert run_of(runs["lost"]).status is RunState.QUEUED


def test_a_preferred_run_is_rerouted_when_sent_again(app, make, beats):
    """A stale preferred run waiting on gpu moves to cpu once no GPU worker is alive."""
    package = make.package(slug="vision", extra_toml='gpu = "preferred"')
    sub_id = make.submission(make.user("bob"), make.assignment("vision", package=package))
    with app.app_context():
        age(sub_id, queue="gpu", enqueued_at=utcnow() - timedelta(hours=1))
        report = reconcile.reconcile()
        assert report.to_send == [(sub_id, "cpu")] and run_of(sub_id).queue == "cpu"


def test_a_preferred_run_stranded_on_gpu_moves_to_cpu_within_minutes(app, make, beats):
    """Its GPU worker went away: the next pass sends it to cpu (not after 15 minutes); while
    a GPU worker is alive, or for a required run, it stays."""
    user = make.user("bob")
    preferred = make.package(slug="vision", extra_toml='gpu = "preferred"')
    required = make.package(slug="cuda", extra_toml='gpu = "required"')
    subs = [
        make.submission(user, make.assignment(slug, package=package))
        for slug, package in (("vision", preferred), ("cuda", required))
    ]
    two_minutes_ago = utcnow() - reconcile.STRANDED_AFTER * 2
    with app.app_context():
        for sub_id in subs:
            age(sub_id, queue="gpu", enqueued_at=two_minutes_ago)
        beats.add("gpu@b", ("gpu",), gpus=("0",))
        assert reconcile.reconcile().to_send == []
        beats.clear()
        (row,) = operations.stuck(utcnow())
        assert row.run.submission_id == subs[0] and "no GPU worker online" in row.reason
        assert reconcile.reconcile().to_send == [(subs[0], "cpu")]
        assert [run_of(s).queue for s in subs] == ["cpu", "gpu"]


class TestCsrf:
    """With CSRF on, as in production, the re-queue form needs its token."""

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_requeue_without_token_is_refused(self, app, client, make, runs):
        make.user("tina", Role.TA)
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)
        form = {"username": "tina", "password": "correct-horse-1", "csrf_token": token.group(1)}
        assert client.post("/login", data=form).status_code == 302
        with app.app_context():
            lost = run_of(runs["lost"]).id
        assert client.post(f"{PAGE}/runs/{lost}/requeue").status_code == 400
        page = client.get(PAGE).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post(f"{PAGE}/runs/{lost}/requeue", data={"csrf_token": token})
        assert response.status_code == 302
        with app.app_context():
            assert run_of(runs["lost"]).status is RunState.QUEUED


def test_percentiles_of_each_phase_per_assignment():
    rows = [("cnn", {"total": float(t), "cases": t / 2}) for t in range(1, 21)]
    rows += [("backprop", {"total": 0.9, "store": 0.01}), ("backprop", "not timings")]
    cnn, backprop = reversed(operations.summarise_phases(rows))
    assert (cnn.slug, cnn.runs, cnn.p50["total"], cnn.p95["total"]) == ("cnn", 20, 10.0, 19.0)
    assert (cnn.p50["cases"], "store" in cnn.p50) == (5.0, False)
    assert (backprop.runs, backprop.p95) == (1, {"store": 0.01, "total": 0.9})
    assert operations.percentile([3.0], 0.95) == 3.0


def test_phase_timings_of_the_last_hour_on_operations_and_for_staff_on_the_submission(
    app, make, auth
):
    """Graded runs' phases: p50/p95 per assignment on the operations page (older runs left
    out), and each run's phases on its submission page for staff only."""
    alice = make.user("alice")
    toy = make.assignment("toy")
    ids = [make.submission(alice, toy) for _ in range(3)]
    with app.app_context():
        for n, sub_id in enumerate(ids):
            claim = grading.claim_run(sub_id, "cpu@host")
            timings = {"total": 1.0 + n, "cases": 0.5, "acquire": 0.01}
            result = GradingResult(RunStatus.GRADED, 1, 1, [], "", "", timings)
            grading.store_result(claim, result)
        age(ids[2], finished_at=utcnow() - timedelta(hours=2))  # outside the window
    page = staff_client(make, auth).get(PAGE).get_data(as_text=True)
    row = re.search(r'<tr><th scope="row"><code>toy</code></th>(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(r'<td class="num">(.*?)</td>', row)
    assert cells[0] == "2"  # the two runs of the last hour
    assert "1.00 / 2.00" in cells and "0.50 / 0.50" in cells and "0.01 / 0.01" in cells
    detail = auth.client.get(f"/submissions/{ids[0]}").get_data(as_text=True)
    assert "Grading time" in detail and "sandbox acquire 0.01 s" in detail
    auth.logout()
    auth.login("alice")
    assert "Grading time" not in auth.client.get(f"/submissions/{ids[0]}").get_data(as_text=True)
