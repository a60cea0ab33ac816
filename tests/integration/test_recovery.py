"""Dead workers, with real processes: `kill -9` of every process of the only worker while runs
are being graded, then a fresh worker (with beat, as `make run` starts it). Every submission
is graded exactly once (one run, one set of cases), the interrupted ones within 90 s of the
restart: their heartbeats stop, the reconciler puts them back, the fresh worker grades them.

The module has a Redis database of its own (RECOVERY_BROKER_DB), so the session's `worker`
fixture never takes these turns, and this module may kill its own workers freely.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.integration.conftest import Worker
from tests.integration.support import Api, app_on, fresh_broker, package_files
from webapp.extensions import db
from webapp.jobs.sandboxes import ORPHAN_AFTER, WORKER_LABEL
from webapp.models import CaseResult, GradingRun, RunState

pytestmark = [pytest.mark.integration, pytest.mark.docker]

RECOVERY_BROKER_DB = int(os.environ.get("TEST_RECOVERY_BROKER_DB", "12"))
RESTART_BUDGET_S = 90.0
SLUG = "backprop"
# The reference solution, slowed down at import (every case imports it): a run takes about
# ten seconds, so runs are surely in flight when the worker is killed. Still full marks.
SLOW = b"\n\nimport time as _time\n\n_time.sleep(0.5)\n"


@pytest.fixture(scope="module")
def recovery_env(env: dict) -> dict:
    return {**env, "REDIS_URL": fresh_broker(RECOVERY_BROKER_DB)}


@pytest.fixture(scope="module")
def recovery_app(live_app: Flask, recovery_env: dict) -> Iterator[Flask]:
    """An app on the session's migrated database that sends to this module's broker."""
    with app_on(recovery_env) as app:
        yield app


def slow_solution() -> dict[str, bytes]:
    return package_files(SLUG, "solution", tail=SLOW)


def runs_by_submission(app: Flask, ids: list[int]) -> dict[int, list[GradingRun]]:
    with app.app_context():
        query = select(GradingRun).where(GradingRun.submission_id.in_(ids)).order_by(GradingRun.id)
        runs = list(db.session.scalars(query))
        db.session.expunge_all()
    return {sub: [r for r in runs if r.submission_id == sub] for sub in ids}


def case_rows(app: Flask, run_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(CaseResult.id)).where(CaseResult.run_id == run_id)
        )


def test_kill_9_of_every_worker_process_then_a_fresh_worker(
    recovery_app: Flask, recovery_env: dict, tmp_path: Path
):
    students = [Api(recovery_app, name) for name in ("ana", "ben", "tia", "ivo")]
    first = Worker(recovery_env, "cpu", name=f"doomed-{os.getpid()}").start(tmp_path, concurrency=2)
    try:
        ids = []
        for api in students:
            response = api.submit(SLUG, slow_solution())
            assert response.status_code == 202, response.get_json()
            ids.append(response.get_json()["id"])
        wait_until_two_run(recovery_app, ids, first)
        time.sleep(2)  # well inside the runs (about ten seconds each)
    finally:
        first.kill(signal.SIGKILL)  # the main process and its pool processes, all at once
    interrupted = [
        sub
        for sub, rs in runs_by_submission(recovery_app, ids).items()
        if rs[-1].status is RunState.RUNNING
    ]
    assert interrupted, "the kill came too late: no run was in flight"

    restarted = time.monotonic()
    fresh = Worker(recovery_env, "cpu", name=f"fresh-{os.getpid()}")
    fresh.start(tmp_path, concurrency=2, beat=True)
    try:
        graded_after = {}
        results = {}
        for api, sub in zip(students, ids, strict=True):
            results[sub] = api.wait_graded(sub, timeout=RESTART_BUDGET_S + 60)
            graded_after[sub] = time.monotonic() - restarted
        print(f"interrupted {interrupted}; graded after the restart: {graded_after}")
        # The dead worker's sandboxes (they ran on, then stayed) are removed by a reconciler
        # pass once older than ORPHAN_AFTER; the fresh worker's own are never touched.
        deadline = time.monotonic() + ORPHAN_AFTER.total_seconds() + 45
        while orphans := sandboxes_of(first):
            assert time.monotonic() < deadline, f"the dead worker's sandboxes stayed: {orphans}"
            time.sleep(1)
    finally:
        fresh.kill()

    assert {sub: r["status"] for sub, r in results.items()} == dict.fromkeys(ids, "graded")
    assert all(r["score"] == r["max_score"] for r in results.values())
    runs = runs_by_submission(recovery_app, ids)
    assert all(len(rs) == 1 for rs in runs.values()), runs  # graded exactly once
    for sub in ids:
        (run,) = runs[sub]
        assert case_rows(recovery_app, run.id) == len(results[sub]["cases"])
        assert run.attempt == (2 if sub in interrupted else 1)
        assert run.worker.startswith(f"{fresh.name}@") or sub not in interrupted
    slowest = max(graded_after[sub] for sub in interrupted)
    assert slowest <= RESTART_BUDGET_S, f"interrupted runs graded {slowest:.0f} s after restart"


def wait_until_two_run(app: Flask, ids: list[int], worker: Worker) -> None:
    deadline = time.monotonic() + 120
    while True:
        runs = runs_by_submission(app, ids)
        if sum(rs[-1].status is RunState.RUNNING for rs in runs.values()) == 2:
            return
        assert time.monotonic() < deadline, f"never two runs in flight: {runs}\n{worker.log()}"
        time.sleep(0.2)


def sandboxes_of(worker: Worker) -> list[str]:
    """Ids of the sandbox containers (running or not) labelled with the worker's name."""
    engine = docker.from_env()
    try:
        label = f"{WORKER_LABEL}={worker.name}@{socket.gethostname()}"
        return [c.id for c in engine.containers.list(all=True, filters={"label": label})]
    finally:
        engine.close()
