"""Benchmark: a burst of reference submissions through the real stack, drained by one worker.

Starts what `make run` starts (a scratch database, one Celery worker on the cpu queue with
--concurrency C, default 2: one process per core here), fills the reference bank for each
assignment (idle-time work, before the burst), then N students' worth of submissions arrive
at once through the JSON API: N submissions from N/2 students, assignments taken in turn
from --slugs. It prints the drain time (first upload to last graded), p50/p95 of submit ->
graded, how many were lost (not graded within the timeout; must be 0), whether every one
scored full marks, and the efficiency: the compute limit of the whole burst (each
submission's cases in one plain process, scripts/bench_speed.py, divided over the cores)
over the drain time; then where the CPU went while draining (benchkit.CpuLedger).

    .venv/bin/python scripts/bench_burst.py [--submissions 60] [--concurrency 2]
        [--slugs backprop,optimizers,rnn] [--warm 1] [--redis-db 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_grading import fill_bank_for
from bench_speed import compute_limit
from benchkit import CpuLedger, Student, finished, scratch_app, scratch_env, solution, start_worker

from grader.package import load_package
from grader.reference import Draw

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--slugs", default="backprop,optimizers,rnn")
    parser.add_argument("--warm", type=int, default=1, help="SANDBOX_WARM for the worker")
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    slugs = args.slugs.split(",")

    limits = {}
    for slug in slugs:  # the floor: each assignment's cases in one plain process (median of 3)
        package = load_package(REPO / "assignments" / slug)
        limits[slug] = statistics.median(compute_limit(package, Draw.fresh()) for _ in range(3))

    tmp = Path(tempfile.mkdtemp(prefix="dlgrader-burst-"))
    env = scratch_env(tmp, args.redis_db)
    per_slug = -(-args.submissions // len(slugs))
    # the worker's settings: warm sandboxes, and a bank deep enough for the whole burst
    settings = {"SANDBOX_WARM": str(args.warm), "REFERENCE_BANK_SIZE": str(per_slug)}
    env.update(settings)
    os.environ.update(settings)
    app = scratch_app(env, SUBMISSIONS_PER_HOUR=0, MAX_WAITING_SUBMISSIONS=0)
    app.config["MAX_IN_FLIGHT_PER_STUDENT"] = 0
    for slug in slugs:
        fill_bank_for(app, slug, per_slug)
    students = [Student(app, f"s{i}") for i in range(max(1, args.submissions // 2))]
    worker = start_worker(
        env, tmp / "worker.log", "--concurrency", str(args.concurrency), "-n", "burst@%h"
    )
    ledger = CpuLedger(worker.pid)
    try:
        sent: list[tuple[Student, int, str, float]] = []
        ledger.start()
        began = time.monotonic()
        for i in range(args.submissions):
            student, slug = students[i % len(students)], slugs[i % len(slugs)]
            response = student.submit(slug, solution(slug))
            assert response.status_code == 202, response.get_json()
            sent.append((student, response.get_json()["id"], slug, time.monotonic()))
        done: dict[int, tuple[float, dict]] = {}
        deadline = began + args.timeout
        ids = [sub_id for _, sub_id, _, _ in sent]
        # One database query per poll (not one API call per submission: polling must not eat
        # the cores the burst is measured on); the result of each once it is final.
        while len(done) < len(sent) and time.monotonic() < deadline:
            for sub_id in finished(app, ids) - done.keys():
                student = next(s for s, i, _, _ in sent if i == sub_id)
                done[sub_id] = (time.monotonic(), student.get(sub_id))
            time.sleep(0.2)
        drained = max((at for at, _ in done.values()), default=time.monotonic()) - began
        spent = ledger.stop()
    finally:
        worker.terminate()
        worker.wait(60)
    report_cpu(spent, drained)
    report(args, sent, done, drained, limits)


def report(args, sent, done, drained: float, limits: dict[str, float]) -> None:
    waits = sorted(done[sub_id][0] - at for _, sub_id, _, at in sent if sub_id in done)
    lost = len(sent) - len(done)
    full = sum(
        1 for _, body in done.values() if body["status"] == "graded"
        and body["score"] == body["max_score"]
    )  # fmt: skip
    compute = sum(limits[slug] for _, _, slug, _ in sent)
    cores = min(args.concurrency, os.cpu_count() or 1)
    ideal = compute / cores
    p95 = waits[max(0, -(-len(waits) * 95 // 100) - 1)] if waits else float("nan")
    print(
        f"{len(sent)} submissions from {len(sent) // 2 or 1} students "
        f"({', '.join(sorted(limits))}), one worker --concurrency {args.concurrency}, "
        f"SANDBOX_WARM={args.warm}, {os.cpu_count()} cores"
    )
    print(
        "compute limit per submission: "
        + ", ".join(f"{slug} {sec:.2f} s" for slug, sec in limits.items())
    )
    print(f"drained in {drained:.1f} s; the compute limit over {cores} cores: {ideal:.1f} s")
    p50 = statistics.median(waits) if waits else float("nan")
    print(f"efficiency {ideal / drained:.0%}; submit -> graded p50 {p50:.1f} s, p95 {p95:.1f} s")
    print(f"lost {lost}; full marks {full} of {len(sent)}")
    if lost or full != len(sent):
        sys.exit(1)


def report_cpu(spent: dict[str, float], drained: float) -> None:
    """Where the cores went during the burst (seconds of CPU; the machine had cores x drain)."""
    cores = os.cpu_count() or 1
    parts = sorted(((k, v) for k, v in spent.items() if k != "total"), key=lambda kv: -kv[1])
    print(
        f"CPU while draining: {spent['total']:.1f} s busy of {cores * drained:.1f} s "
        f"({spent['total'] / (cores * drained):.0%}): "
        + ", ".join(f"{k} {v:.1f}" for k, v in parts)
    )


if __name__ == "__main__":
    main()
