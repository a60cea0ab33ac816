"""Several real worker processes on one broker and database, as on several hosts: two CPU
workers share a batch (each run graded once), a GPU-only run is never taken by a CPU worker,
a "preferred" run falls back to the CPU queue while no GPU worker is alive, and a worker
without a GPU refuses the gpu queue.

The module has a Redis database of its own (FLEET_BROKER_DB), so the session's `worker`
fixture (another broker database) never takes these tasks. There is no GPU here: the GPU
worker gets a fake device id, so its runs are claimed and then fail to start (Docker cannot
satisfy the device request); the test asserts routing and claiming, not grading.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from grader.gpus import GpuPool
from tests.integration.conftest import CELERY, REPO, Worker
from tests.integration.support import Api, app_on, fresh_broker
from webapp.extensions import db
from webapp.jobs.fleet import fleet
from webapp.models import GradingRun, RunState

pytestmark = [pytest.mark.integration, pytest.mark.docker]

FLEET_BROKER_DB = int(os.environ.get("TEST_FLEET_BROKER_DB", "14"))
FIXTURES = REPO / "tests" / "fixtures" / "fleet"
SOLUTION = {"scale.py": (FIXTURES / "cpu" / "solution" / "scale.py").read_bytes()}
FAKE_GPU = "GPU-fake-0000"
BATCH = 6


@pytest.fixture(scope="module")
def fleet_env(env: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The session's environment on this module's broker database, with a GPU lock dir."""
    url = fresh_broker(FLEET_BROKER_DB)
    locks = tmp_path_factory.mktemp("gpu-locks")
    return {
        **env,
        "REDIS_URL": url,
        "GRADER_GPU_LOCK_DIR": str(locks),
        "GRADER_GPUS": "none",
        # one student's burst stands for many students' submissions here
        "MAX_RUNNING_PER_STUDENT": "0",
    }


@pytest.fixture(scope="module")
def fleet_app(live_app: Flask, fleet_env: dict) -> Iterator[Flask]:
    """An app on the session's migrated database that sends to this module's broker, with the
    fleet fixture assignments (gpu none, required and preferred) loaded."""
    # one student's burst stands for many students' submissions here
    with app_on(fleet_env, MAX_WAITING_SUBMISSIONS=0, MAX_IN_FLIGHT_PER_STUDENT=0) as app:
        result = app.test_cli_runner().invoke(args=["assignments", "sync", str(FIXTURES)])
        assert result.exit_code == 0, result.output
        yield app


@pytest.fixture(scope="module")
def ana(fleet_app: Flask) -> Api:
    return Api(fleet_app, "ana")


@pytest.fixture(scope="module")
def cpu_workers(
    fleet_env: dict, fleet_app: Flask, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Worker]]:
    """Two separate CPU worker processes, one run at a time each, both heartbeating."""
    logs = tmp_path_factory.mktemp("fleet-workers")
    workers = [Worker(fleet_env, "cpu", name=f"cpu{i}-{os.getpid()}") for i in (1, 2)]
    try:
        for w in workers:
            w.start(logs, concurrency=1)
        wait_for(lambda: {f"{w.name}@" for w in workers} <= alive_prefixes(fleet_app))
        yield workers
    finally:
        for w in workers:
            w.kill()


def alive_prefixes(app: Flask) -> set[str]:
    return {w.name.split("@")[0] + "@" for w in fleet(app)}


def wait_for(condition, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        time.sleep(0.2)


def runs_of(app: Flask, submission_ids: list[int]) -> list[GradingRun]:
    with app.app_context():
        query = select(GradingRun).where(GradingRun.submission_id.in_(submission_ids))
        runs = list(db.session.scalars(query.order_by(GradingRun.id)))
        db.session.expunge_all()
        return runs


def submit(api: Api, slug: str) -> int:
    response = api.submit(slug, SOLUTION)
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def test_two_cpu_workers_share_a_batch_and_grade_each_run_once(fleet_app, ana, cpu_workers):
    started = time.monotonic()
    ids = [submit(ana, "fleet-cpu") for _ in range(BATCH)]
    results = [ana.wait_graded(i, timeout=120) for i in ids]
    elapsed = time.monotonic() - started
    assert [(r["status"], r["score"]) for r in results] == [("graded", 1.0)] * BATCH
    runs = runs_of(fleet_app, ids)
    assert len(runs) == BATCH and {r.attempt for r in runs} == {1}  # one run, claimed once
    names = {w.name: [r.id for r in runs if r.worker.startswith(f"{w.name}@")] for w in cpu_workers}
    assert all(names.values()), f"one worker took the whole batch: {names}"
    assert sum(len(v) for v in names.values()) == BATCH
    print(f"{BATCH} runs on 2 workers in {elapsed:.1f} s: {[len(v) for v in names.values()]}")


def test_a_gpu_only_run_is_never_taken_by_a_cpu_worker(fleet_app, ana, cpu_workers):
    """It waits on the gpu queue (the page says why) while the CPU workers stay idle."""
    sub_id = submit(ana, "fleet-gpu")
    time.sleep(3)  # long enough for an idle CPU worker to take it, were it on its queue
    body = ana.submission(sub_id).get_json()
    assert body["status"] == "queued"
    assert body["queue"]["name"] == "gpu"
    assert body["queue"]["note"] == "waiting for a GPU worker: none is online"
    (run,) = runs_of(fleet_app, [sub_id])
    assert (run.status, run.attempt, run.worker, run.queue) == (RunState.QUEUED, 0, None, "gpu")
    broker = redis.Redis.from_url(fleet_app.config["REDIS_URL"], socket_timeout=5)
    assert broker.llen("gpu") == 1


def test_preferred_falls_back_to_a_cpu_worker_when_no_gpu_worker_is_alive(
    fleet_app, ana, cpu_workers
):
    sub_id = submit(ana, "fleet-pref")
    assert ana.wait_graded(sub_id, timeout=60)["score"] == 1.0
    (run,) = runs_of(fleet_app, [sub_id])
    assert run.queue == "cpu" and run.worker.split("@")[0] in {w.name for w in cpu_workers}


def test_worker_without_gpu_refuses_the_gpu_queue(fleet_env):
    result = subprocess.run(
        [CELERY, "-A", "webapp.jobs.worker", "worker", "-Q", "gpu", "-n", "nogpu@%h"],
        cwd=REPO,
        env=fleet_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "consumes the gpu queue but has no GPU" in result.stdout + result.stderr


def test_a_gpu_worker_claims_the_waiting_run_on_its_leased_gpu(
    fleet_app, fleet_env, ana, cpu_workers, tmp_path: Path
):
    """Once a worker with a GPU is alive, it claims the waiting GPU run and asks Docker for
    exactly its leased device (which this machine cannot provide, so the run is retried);
    the lease is released afterwards. New "preferred" runs now go to the gpu queue."""
    (run,) = runs_of(fleet_app, [submit(ana, "fleet-gpu")])
    gpu_env = {**fleet_env, "GRADER_GPUS": FAKE_GPU}
    gpu_worker = Worker(gpu_env, "gpu", name=f"gpu-{os.getpid()}").start(tmp_path)
    try:
        claimed = f"run {run.id}: sandbox unavailable"
        wait_for(lambda: claimed in gpu_worker.log(), what="the GPU worker's claim")
        assert "could not select device driver" in gpu_worker.log()
        (after,) = runs_of(fleet_app, [run.submission_id])
        assert after.attempt >= 1 and after.queue == "gpu"
        lease = GpuPool([FAKE_GPU], lock_dir=Path(fleet_env["GRADER_GPU_LOCK_DIR"])).try_lease()
        assert lease is not None  # the worker released it in a finally
        lease.release()
        gpu = next(w for w in fleet(fleet_app) if w.name.startswith(f"{gpu_worker.name}@"))
        assert (gpu.queues, gpu.gpus) == (["gpu"], [FAKE_GPU])
        (preferred,) = runs_of(fleet_app, [submit(ana, "fleet-pref")])
        assert preferred.queue == "gpu"
        assert all(f"run {run.id}:" not in w.log() for w in cpu_workers)
    finally:
        gpu_worker.kill()
