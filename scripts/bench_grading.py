"""Benchmark: time from submit to graded, and where it goes, through the real stack.

Starts its own scratch SQLite database and a real Celery worker (Redis db 14 by default),
submits an assignment's reference solution N times through the JSON API one after another,
and prints per run: submit -> graded wall time, queue wait, the grader's own timings
(container, cases, startup, reference). Every run draws fresh inputs: without --banked each
run computes its reference alongside the student's sandbox (the "reference" column); with
--banked the bank is filled first (idle-time work, timed separately) and runs take from it.

    .venv/bin/python scripts/bench_grading.py [--slug backprop] [--runs 5] [--banked]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    celery = str(Path(sys.executable).with_name("celery"))
    args = [
        celery,
        "-A",
        "webapp.worker",
        "worker",
        "-Q",
        "cpu",
        "--concurrency",
        "1",
        "-n",
        "bench@%h",
        "--without-mingle",
        "--loglevel",
        "INFO",
    ]
    proc = subprocess.Popen(
        args, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"worker did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)
    return proc


def submit_and_wait(client, headers: dict, slug: str, files: dict[str, bytes]) -> tuple[int, float]:
    data = {"files": [(BytesIO(content), name) for name, content in files.items()]}
    start = time.monotonic()
    response = client.post(
        f"/api/v1/assignments/{slug}/submissions",
        data=data,
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_json()
    submission_id = response.get_json()["id"]
    while True:
        body = client.get(f"/api/v1/submissions/{submission_id}", headers=headers).get_json()
        if body["status"] in ("graded", "failed"):
            assert body["status"] == "graded" and body["score"] == body["max_score"], body
            return submission_id, time.monotonic() - start
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slug", default="backprop")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument("--banked", action="store_true", help="fill the reference bank first")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="dlgrader-bench-"))
    broker = f"redis://127.0.0.1:6379/{args.redis_db}"
    redis.Redis.from_url(broker).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "REDIS_URL": broker,
        "SECRET_KEY": "bench",
        "OMP_NUM_THREADS": "1",
    }
    os.environ.update(env)

    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import GradingRun

    # one student submits every run: no hourly limit here
    app = create_app(
        {"DATABASE_URL": env["DATABASE_URL"], "REDIS_URL": broker, "SUBMISSIONS_PER_HOUR": 0}
    )
    cli = app.test_cli_runner()
    for cmd in (
        ["db", "upgrade"],
        ["assignments", "sync", str(REPO / "assignments")],
        ["users", "create", "bench", "--role", "student", "--password", "bench-pass-1"],
    ):
        result = cli.invoke(args=cmd)
        assert result.exit_code == 0, (cmd, result.output)
    token = cli.invoke(args=["tokens", "create", "bench"]).output.strip()
    headers = {"Authorization": f"Bearer {token}"}
    solution = REPO / "assignments" / args.slug / "solution"
    files = {p.name: p.read_bytes() for p in sorted(solution.glob("*.py"))}

    if args.banked:
        fill_bank_for(app, args.slug, args.runs)
    worker = start_worker(env, tmp / "worker.log")
    try:
        client = app.test_client()
        rows = []
        for _ in range(args.runs):
            submission_id, wall = submit_and_wait(client, headers, args.slug, files)
            with app.app_context():
                run = db.session.query(GradingRun).filter_by(submission_id=submission_id).one()
                queued = (run.started_at - run.enqueued_at).total_seconds()
                rows.append((submission_id, wall, queued, dict(run.timings)))
    finally:
        worker.terminate()
        worker.wait(30)

    keys = ("total", "container", "cases", "startup", "reference")
    print(f"{args.slug}: {args.runs} reference submissions, one worker, {os.cpu_count()} cores\n")
    print(
        f"{'run':>4} {'submit->graded':>15} {'queue wait':>11} "
        + " ".join(f"{k:>10}" for k in keys)
    )
    for submission_id, wall, queued, timings in rows:
        cells = " ".join(f"{timings.get(k, float('nan')):>10.2f}" for k in keys)
        print(f"{submission_id:>4} {wall:>14.2f}s {queued:>10.2f}s {cells}")
    banked = [wall for _, wall, _, t in rows if not t.get("reference")]
    alongside = [wall for _, wall, _, t in rows if t.get("reference")]
    if banked:
        print(f"\nreference from the bank: median submit->graded {statistics.median(banked):.2f} s")
    if alongside:
        median = statistics.median(alongside)
        print(f"reference computed alongside: median submit->graded {median:.2f} s")


def fill_bank_for(app, slug: str, count: int) -> None:
    """Precompute `count` references for the assignment's current suite (idle-time work)."""
    from grader.engine import fill_bank
    from webapp.models import Assignment
    from webapp.reference_bank import DatabaseReferenceBank
    from webapp.sandboxes import docker_sandbox

    with app.app_context():
        assignment = Assignment.query.filter_by(slug=slug).one()
        package = assignment.current_suite.package()
        sandbox = docker_sandbox()
        started = time.monotonic()
        for _ in range(count):
            fill_bank(package, sandbox, DatabaseReferenceBank())
        sandbox.close()
        each = (time.monotonic() - started) / count
        print(f"filled the bank with {count} references: {each:.2f} s each (idle time)\n")


if __name__ == "__main__":
    main()
