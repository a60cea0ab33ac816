"""Fair turns with a real worker (the size of `make run`'s: concurrency 2): one student at
their cap with stalling submissions on several assignments holds one slot, not the pool; a
fourth waiting submission is refused; another student's reference submission, sent last, is
shown next in line and graded within 30 s.

Its own Redis database (FAIR_BROKER_DB) and worker, killed at the end with the stalling
sandboxes it left (they would otherwise run to their wall limits and slow later tests).
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
from sqlalchemy import select, update

from tests.integration.conftest import Worker
from tests.integration.support import Api, app_on, fresh_broker, package_files
from webapp.extensions import db
from webapp.jobs.sandboxes import WORKER_LABEL
from webapp.models import GradingRun, RunState, Submission, User, utcnow

pytestmark = [pytest.mark.integration, pytest.mark.docker]

FAIR_BROKER_DB = int(os.environ.get("TEST_FAIR_BROKER_DB", "11"))
HONEST_BUDGET_S = 30.0
UNFINISHED = (RunState.QUEUED, RunState.RUNNING)
# Appended to a solution file: importing it (every case does) hangs until the case's limit.
STALL = b"\n\nimport time as _time\n\n_time.sleep(10_000)\n"


def stalling(slug: str) -> dict[str, bytes]:
    return package_files(slug, "solution", tail=STALL)


@pytest.fixture(scope="module")
def fair_env(env: dict) -> dict:
    url = fresh_broker(FAIR_BROKER_DB)
    return {**env, "REDIS_URL": url, "MAX_IN_FLIGHT_PER_STUDENT": "3"}


@pytest.fixture(scope="module")
def fair_app(live_app: Flask, fair_env: dict) -> Iterator[Flask]:
    with app_on(fair_env, MAX_IN_FLIGHT_PER_STUDENT=3, MAX_RUNNING_PER_STUDENT=1) as app:
        yield app


@pytest.fixture(scope="module")
def students(fair_app: Flask) -> Iterator[tuple[Api, Api]]:
    """Two students of this module's own; Mallory's runs left unfinished (her stalling code)
    are ended afterwards, so no later test's worker ever takes one."""
    cli = fair_app.test_cli_runner()
    for name in ("mallory", "bob"):
        result = cli.invoke(args=["users", "create", name, "--password", "fair-turns-1"])
        assert result.exit_code == 0, result.output
    yield Api(fair_app, "mallory"), Api(fair_app, "bob")
    with fair_app.app_context():
        mine = select(Submission.id).join(User).where(User.username == "mallory")
        db.session.execute(
            update(GradingRun)
            .where(GradingRun.submission_id.in_(mine), GradingRun.status.in_(UNFINISHED))
            .values(status=RunState.FAILED, message="ended by the test", finished_at=utcnow())
        )
        db.session.commit()


@pytest.fixture
def fair_worker(fair_env: dict, tmp_path: Path) -> Iterator[Worker]:
    worker = Worker(fair_env, "cpu", name=f"fair-{os.getpid()}").start(tmp_path, concurrency=2)
    try:
        yield worker
    finally:
        worker.kill(signal.SIGKILL)
        engine = docker.from_env()
        label = f"{WORKER_LABEL}={worker.name}@{socket.gethostname()}"
        for container in engine.containers.list(all=True, filters={"label": label}):
            container.remove(force=True)
        engine.close()


def unfinished_runs(app: Flask) -> list[tuple]:
    """Every queued or running run of the database, for a failure's message."""
    with app.app_context():
        query = (
            select(
                GradingRun.id,
                User.username,
                GradingRun.queue,
                GradingRun.status,
                GradingRun.attempt,
                GradingRun.worker,
                GradingRun.enqueued_at,
                GradingRun.started_at,
            )
            .join(Submission, Submission.id == GradingRun.submission_id)
            .join(User, User.id == Submission.user_id)
            .where(GradingRun.status.in_(UNFINISHED))
            .order_by(GradingRun.id)
        )
        return [tuple(row) for row in db.session.execute(query)]


def test_a_stalling_student_holds_one_slot_and_another_is_graded_within_30_s(
    fair_app: Flask, students: tuple[Api, Api], fair_worker: Worker
):
    mallory, ben = students
    stalls = []
    for slug in ("backprop", "optimizers", "rnn"):
        response = mallory.submit(slug, stalling(slug))
        assert response.status_code == 202, response.get_json()
        stalls.append(response.get_json()["id"])
    refused = mallory.submit("cnn", stalling("cnn"))
    assert refused.status_code == 429
    assert "across your assignments" in refused.get_json()["error"]

    # The worker takes Mallory's first run; her others wait for her slot. Ben is sent only
    # then: before it, her first run is really ahead of his (same turn, sent earlier).
    first_taken = time.monotonic() + 60
    while "running" not in [mallory.submission(sub).get_json()["status"] for sub in stalls]:
        assert time.monotonic() < first_taken, "the worker took none of Mallory's runs in 60 s"
        time.sleep(0.2)
    sent = time.monotonic()
    response = ben.submit("backprop", package_files("backprop", "solution"))
    assert response.status_code == 202, response.get_json()
    sub_id = response.get_json()["id"]
    body = ben.submission(sub_id).get_json()
    if body["status"] == "queued":  # ahead of Mallory's two waiting runs, sent earlier
        assert body["queue"]["position"] == 0, (body["queue"], unfinished_runs(fair_app))
    result = ben.wait_graded(sub_id, timeout=120)
    waited = time.monotonic() - sent
    print(f"honest backprop graded {waited:.1f} s after it was sent")
    assert (result["status"], result["score"]) == ("graded", result["max_score"])
    assert waited <= HONEST_BUDGET_S
    statuses = [mallory.submission(sub).get_json()["status"] for sub in stalls]
    assert statuses.count("running") == 1 and statuses.count("queued") == 2, (
        statuses,
        unfinished_runs(fair_app),
    )
