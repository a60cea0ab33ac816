"""Routing by an assignment's gpu mode and the live workers; a queued run's position and
expected wait, on the submission page and in the API."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.webapp.jobs.fleet_support import FLEET_REDIS_URL, Heartbeats, heartbeats
from webapp.extensions import db
from webapp.jobs import grading
from webapp.jobs.fleet import WorkerInfo
from webapp.jobs.routing import CPU, GPU, format_wait, route
from webapp.models import GradingRun, RunState, Submission, utcnow
from webapp.submitting import request_regrade

CODE = b"def double(x):\n    return 2 * x\n"
WAITING_FOR_GPU = "waiting for a GPU worker: none is online"


@pytest.fixture
def app_config(app_config):
    """This module's workers publish their heartbeats in a Redis database of its own."""
    return {**app_config, "REDIS_URL": FLEET_REDIS_URL}


@pytest.fixture
def beats() -> Heartbeats:
    yield from heartbeats()


@pytest.fixture
def alice(make, auth) -> int:
    user_id = make.user("alice")
    auth.login("alice")
    return user_id


def submit(client, slug: str) -> int:
    data = {"files": [(io.BytesIO(CODE), "layers.py")]}
    response = client.post(f"/assignments/{slug}/submissions", data=data)
    assert response.status_code == 302, response.data
    return int(response.headers["Location"].rsplit("/", 1)[1])


def gpu_assignment(make, slug: str, mode: str) -> int:
    return make.assignment(slug, package=make.package(slug=slug, extra_toml=f'gpu = "{mode}"'))


def run_queue(app, sub_id: int) -> str:
    with app.app_context():
        return db.session.get_one(Submission, sub_id).runs[-1].queue


def test_route_chooses_the_queue():
    cpu_only = [WorkerInfo("c", ["cpu"])]
    with_gpu = [*cpu_only, WorkerInfo("g", ["gpu"], ["0"])]
    assert [route("none", w).queue for w in (cpu_only, with_gpu)] == [CPU, CPU]
    assert [route("preferred", w).queue for w in (cpu_only, with_gpu)] == [CPU, GPU]
    assert [route("required", w).queue for w in ([], cpu_only, with_gpu)] == [GPU, GPU, GPU]


def test_route_says_whether_a_run_uses_a_gpu_and_follows_the_fleet():
    """A suite that uses a GPU takes one wherever it lands; only "preferred" moves with it."""
    assert [route(mode).uses_gpu for mode in ("none", "preferred", "required")] == [
        False,
        True,
        True,
    ]
    assert [route(mode).follows_fleet for mode in ("none", "preferred", "required")] == [
        False,
        True,
        False,
    ]


def test_preferred_falls_back_to_cpu_while_no_gpu_worker_is_alive(
    app, client, make, alice, beats, sent_tasks
):
    gpu_assignment(make, "vision", "preferred")
    beats.add("cpu@a", ("cpu",))
    fallback = submit(client, "vision")
    assert sent_tasks("cpu") == [("webapp.grade_submission", [fallback])]
    assert run_queue(app, fallback) == CPU
    beats.add("gpu@b", ("gpu",), gpus=("0",))
    on_gpu = submit(client, "vision")
    assert sent_tasks("gpu") == [("webapp.grade_submission", [on_gpu])]
    assert sent_tasks("cpu") == [] and run_queue(app, on_gpu) == GPU


def test_required_waits_on_the_gpu_queue_and_says_why(app, client, make, alice, beats, sent_tasks):
    """No GPU worker: the run goes to gpu anyway; page and API tell the student why it waits."""
    gpu_assignment(make, "vision", "required")
    beats.add("cpu@a", ("cpu",), concurrency=4)
    sub_id = submit(client, "vision")
    assert sent_tasks("gpu") == [("webapp.grade_submission", [sub_id])]
    assert sent_tasks("cpu") == []
    queue = client.get(f"/api/v1/submissions/{sub_id}").get_json()["queue"]
    assert queue["name"] == GPU and queue["position"] == 0
    assert queue["expected_wait_s"] is None and queue["note"] == WAITING_FOR_GPU
    html = client.get(f"/submissions/{sub_id}").get_data(as_text=True)
    assert f"{WAITING_FOR_GPU} (next in line on the gpu queue)" in html
    beats.add("gpu@b", ("gpu",), gpus=("0",))
    assert client.get(f"/api/v1/submissions/{sub_id}").get_json()["queue"]["note"] == ""


def finished_run(app, sub_id: int, seconds: float) -> None:
    """Mark the submission's run graded after `seconds` of grading."""
    with app.app_context():
        end = utcnow()
        db.session.execute(
            update(GradingRun)
            .where(GradingRun.submission_id == sub_id)
            .values(
                status=RunState.GRADED, started_at=end - timedelta(seconds=seconds), finished_at=end
            )
        )
        db.session.commit()


def test_position_and_expected_wait(app, client, make, alice, beats):
    """Position counts queued runs ahead in the same queue; wait = position x the queue's mean
    grading time / the live workers' concurrency, null while either is unknown."""
    make.assignment("toy")
    gpu_assignment(make, "vision", "required")
    first, second, third = (submit(client, "toy") for _ in range(3))
    submit(client, "vision")  # another queue: not ahead of anyone on cpu
    queue = client.get(f"/api/v1/submissions/{third}").get_json()["queue"]
    assert (queue["position"], queue["expected_wait_s"]) == (2, None)  # no worker, no history
    assert queue["note"] == "waiting for a grading worker: none is online"
    beats.add("cpu@a", ("cpu",), concurrency=2)
    assert client.get(f"/api/v1/submissions/{third}").get_json()["queue"]["note"] == ""
    assert client.get(f"/api/v1/submissions/{third}").get_json()["queue"]["expected_wait_s"] is None
    old = [submit(client, "toy") for _ in range(2)]
    finished_run(app, old[0], 10.0)
    finished_run(app, old[1], 50.0)  # mean 30 s over 2 slots
    queue = client.get(f"/api/v1/submissions/{third}").get_json()["queue"]
    assert (queue["position"], queue["expected_wait_s"]) == (2, 30.0)
    assert queue["text"] == "2 runs ahead on the cpu queue; expected wait under a minute"
    with app.app_context():
        grading.claim_run(first, "cpu@a")
    queue = client.get(f"/api/v1/submissions/{third}").get_json()["queue"]
    assert (queue["position"], queue["expected_wait_s"]) == (1, 15.0)
    assert client.get(f"/api/v1/submissions/{first}").get_json()["queue"] is None
    assert client.get(f"/api/v1/submissions/{second}").get_json()["queue"]["position"] == 0


def test_a_regrade_is_routed_too(app, make, beats, sent_tasks):
    """A regrade of a preferred assignment goes where a new submission would go now."""
    sub_id = make.submission(make.user("alice"), gpu_assignment(make, "vision", "preferred"))
    finished_run(app, sub_id, 1.0)
    beats.add("gpu@b", ("gpu",), gpus=("0",))
    with app.app_context():
        run = request_regrade(db.session.get_one(Submission, sub_id))
        assert run.queue == GPU
        assert db.session.scalar(select(GradingRun.queue).where(GradingRun.id == run.id)) == GPU
    assert sent_tasks("gpu") == [("webapp.grade_submission", [sub_id])]


def test_wait_wording():
    assert [format_wait(s) for s in (None, 0, 59, 60, 150)] == [
        "unknown",
        "under a minute",
        "under a minute",
        "about 1 min",
        "about 2 min",
    ]
