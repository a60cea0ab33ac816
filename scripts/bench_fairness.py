"""Benchmark: how long an honest student waits while another stalls the grader on purpose.

Starts what `make run` starts (a scratch database, one Celery worker with beat,
--concurrency 2, the default submission limits), then:
1. Mallory submits, on every assignment, a reference solution whose import hangs (each case
   runs to its time limit), until the limits refuse her;
2. five seconds later Ben submits the backprop reference solution through the JSON API;
and prints the time from Ben's upload to his graded result, the queue position he was shown,
and how many of Mallory's uploads were accepted and refused. Each round has a fresh database
and worker; Mallory's sandboxes are removed at the end of it (they would otherwise run on to
their wall limits).

    .venv/bin/python scripts/bench_fairness.py [--repeat 3] [--redis-db 10]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import tempfile
import time
from pathlib import Path

import docker
from benchkit import Student, scratch_app, scratch_env, solution, start_worker

SLUGS = ("backprop", "optimizers", "cnn", "rnn")
STALL = b"\n\nimport time as _time\n\n_time.sleep(10_000)\n"  # every case hangs at import
WORKER_NAME = "bench-fair@%h"
LIMITS = ("MAX_WAITING_SUBMISSIONS", "MAX_IN_FLIGHT_PER_STUDENT", "MAX_RUNNING_PER_STUDENT")


def one_round(mallory: Student, ben: Student) -> dict:
    accepted = refused = 0
    for slug in SLUGS:
        for _ in range(3):  # more than any per-assignment cap lets through
            if mallory.submit(slug, solution(slug, STALL)).status_code == 202:
                accepted += 1
            else:
                refused += 1
    time.sleep(5)  # Mallory's runs have taken what they can
    sent = time.monotonic()
    response = ben.submit("backprop", solution("backprop"))
    assert response.status_code == 202, response.get_json()
    submission_id = response.get_json()["id"]
    shown = ben.get(submission_id).get("queue")
    body = ben.wait(submission_id)
    waited = time.monotonic() - sent
    assert body["status"] == "graded" and body["score"] == body["max_score"], body
    position = shown["position"] if shown else "-"  # None: already running when asked
    return {"waited": waited, "accepted": accepted, "refused": refused, "position": position}


def remove_sandboxes(engine: docker.DockerClient) -> None:
    """The sandboxes the killed worker left (no other container is touched)."""
    from webapp.jobs.sandboxes import WORKER_LABEL

    label = f"{WORKER_LABEL}={WORKER_NAME.replace('%h', socket.gethostname())}"
    for container in engine.containers.list(all=True, filters={"label": label}):
        container.remove(force=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each with a fresh worker")
    parser.add_argument("--redis-db", type=int, default=10)
    args = parser.parse_args()

    engine = docker.from_env()
    waits = []
    for round_no in range(1, args.repeat + 1):
        tmp = Path(tempfile.mkdtemp(prefix="dlgrader-fair-"))
        env = scratch_env(tmp, args.redis_db)
        app = scratch_app(env)
        if round_no == 1:
            print(f"settings: { ({k: app.config[k] for k in LIMITS}) }; {os.cpu_count()} cores")
        mallory, ben = Student(app, "mallory"), Student(app, "ben")
        options = ["-B", "--schedule", str(tmp / "beat"), "--concurrency", "2", "-n", WORKER_NAME]
        worker = start_worker(env, tmp / "worker.log", *options)
        try:
            row = one_round(mallory, ben)
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(30)
            remove_sandboxes(engine)
        waits.append(row["waited"])
        print(
            f"round {round_no}: Mallory accepted {row['accepted']}, refused {row['refused']}; "
            f"Ben shown position {row['position']}, graded {row['waited']:.1f} s after upload"
        )
    print(f"Ben's wait: median {statistics.median(waits):.1f} s, max {max(waits):.1f} s")


if __name__ == "__main__":
    main()
