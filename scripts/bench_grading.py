"""Benchmark: time from submit to graded, and where it goes, through the real stack.

Starts its own scratch SQLite database and a real Celery worker (Redis db 7 by default; the
integration tests use 11-14), submits an assignment's reference solution N times through the
JSON API one after another, and prints per run: submit -> graded wall time, queue wait, the
grader's own timings (container, cases, startup, reference). Every run draws fresh inputs:
without --banked each run computes its reference alongside the student's sandbox (the
"reference" column); with --banked the bank is filled first (idle-time work, timed
separately) and runs take from it.

    .venv/bin/python scripts/bench_grading.py [--slug backprop] [--runs 5] [--banked]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from benchkit import Student, scratch_app, scratch_env, solution, start_worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slug", default="backprop")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--redis-db", type=int, default=7)
    parser.add_argument("--banked", action="store_true", help="fill the reference bank first")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="dlgrader-bench-"))
    env = scratch_env(tmp, args.redis_db)
    from webapp.extensions import db
    from webapp.models import GradingRun

    # one student submits every run: no submission limits here
    app = scratch_app(env, SUBMISSIONS_PER_HOUR=0, MAX_WAITING_SUBMISSIONS=0)
    student = Student(app, "bench")
    files = solution(args.slug)

    if args.banked:
        fill_bank_for(app, args.slug, args.runs)
    worker = start_worker(env, tmp / "worker.log", "--concurrency", "1", "-n", "bench@%h")
    try:
        rows = []
        for _ in range(args.runs):
            start = time.monotonic()
            response = student.submit(args.slug, files)
            assert response.status_code == 202, response.get_json()
            submission_id = response.get_json()["id"]
            body = student.wait(submission_id)
            assert body["status"] == "graded" and body["score"] == body["max_score"], body
            wall = time.monotonic() - start
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
    from webapp.jobs.reference_bank import DatabaseReferenceBank
    from webapp.jobs.sandboxes import docker_sandbox
    from webapp.models import Assignment

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
