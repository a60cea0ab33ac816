"""Benchmark: what grading costs on top of the computation, per assignment, side by side.

For each assignment's reference solution, interleaved round by round (so a busy moment of
the machine hits every column alike), median of --runs:

- compute limit: the hidden cases called one after another in ONE plain Python process on
  the reference solution, imports included (no harness, no container): the floor;
- harness alone: the real harness (a process per case, records, scoring) in a child process,
  no container (scripts/gpu_check.py's ProcessSandbox);
- cold container: grader.engine.grade in a Docker sandbox started for the run;
- warm container: the same with grader.warm (a started container waiting for the run);
- submit -> graded: the reference uploaded through the JSON API of a scratch app, graded by
  a real Celery worker (--concurrency 1, SANDBOX_WARM=1, its bank filled first), until the
  database says graded (one query per 20 ms poll).

The first four grade against one reference computed before and the worker takes its
references from the bank (idle-time work), so each column is the student's run alone; the
grader's own phase timings of the warm runs follow. Redis db --redis-db is flushed.

    .venv/bin/python scripts/bench_speed.py [--runs 5] [--slugs backprop,optimizers,rnn,cnn]
        [--no-stack] [--redis-db 8]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gpu_check import ProcessSandbox  # noqa: E402

from grader.bundle import make_bundle, task_for  # noqa: E402
from grader.engine import compute_reference, grade, run_data_for  # noqa: E402
from grader.job import GradingJob  # noqa: E402
from grader.package import Package, load_package  # noqa: E402
from grader.reference import Draw, Reference  # noqa: E402
from grader.sandbox import DockerSandbox  # noqa: E402
from grader.warm import WarmDockerSandbox  # noqa: E402

COLUMNS = ("compute", "harness", "cold", "warm", "stack")
# Calls every case of task.json in this process, as the harness's case child would.
DRIVER = """
import json, os, sys, time
sys.path.insert(0, os.getcwd())
import harness
task = json.load(open("task.json"))
for name in task["preload"]:
    __import__(name)
cases = harness.load_cases()
sys.meta_path.insert(0, harness.SubmissionFinder(task["modules"]))
os.makedirs(harness.WORK, exist_ok=True)
os.chdir(harness.WORK)
for case in task["cases"]:
    harness._seed_globals(int(task["seed"]), case["name"])
    ctx = harness.Context(case["name"], int(task["seed"]), "cpu")
    harness.encode_outputs(getattr(cases, case["name"])(ctx))
"""


def compute_limit(package: Package, draw: Draw) -> float:
    """Seconds for one process to import what the cases need and call them all (per
    environment, one after another)."""
    total = 0.0
    run_data = run_data_for(package, draw)
    for env in package.config.environments():
        specs = [c for c in package.config.cases if c.environment == env]
        task = task_for(package, draw.seed, "cpu", env, specs)
        bundle = make_bundle(package, package.solution_files(), task, run_data.data)
        with tempfile.TemporaryDirectory(prefix="dlgrader-compute-") as job:
            with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:") as archive:
                archive.extractall(job, filter="data")
            began = time.monotonic()
            subprocess.run(
                [sys.executable, "-c", DRIVER], cwd=job, check=True, env={"OMP_NUM_THREADS": "1"}
            )
            total += time.monotonic() - began
    return total


def graded_in(package: Package, reference: Reference, sandbox) -> tuple[float, dict]:
    began = time.monotonic()
    job = GradingJob(package.solution_files(), package, reference=reference)
    result = grade(job, sandbox)
    took = time.monotonic() - began
    if result.score != result.max_score:
        sys.exit(f"{package.config.slug}: the reference scored {result.score}: {result.message}")
    return took, result.timings


def wait_warm(box: WarmDockerSandbox, package: Package) -> None:
    """Until a container of each of the package's environments waits (idle time)."""
    for env in package.config.environments():
        box.warm_up(package.config.limits, None, env, package.config.preload_for(env))
    deadline = time.monotonic() + 120
    while box.waiting() < len(package.config.environments()):
        if time.monotonic() > deadline:
            sys.exit("warm containers did not start")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--slugs", default="backprop,optimizers,rnn,cnn")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--no-stack", action="store_true", help="skip submit -> graded")
    parser.add_argument("--redis-db", type=int, default=8)
    args = parser.parse_args()

    cold = DockerSandbox()
    cold.check()
    harness_box = ProcessSandbox(None)
    packages = {s: load_package(REPO / "assignments" / s) for s in args.slugs.split(",")}
    references = {}
    for slug, package in packages.items():
        draw = Draw.fresh()
        outputs = compute_reference(package, draw, run_data_for(package, draw), None, cold)
        references[slug] = Reference(draw, outputs)
    seconds = {slug: {c: [] for c in COLUMNS} for slug in packages}
    phases: dict[str, list[dict]] = {slug: [] for slug in packages}
    warm = WarmDockerSandbox(size=1)
    stack = None if args.no_stack else Stack(list(packages), args.runs + 1, args.redis_db)
    try:
        if stack is not None:
            for slug in packages:  # a first, cold run of each kind: the worker warms up
                stack.submit_and_wait(slug)
        for round_no in range(args.runs):
            for slug, package in packages.items():
                ref = references[slug]
                seconds[slug]["compute"].append(compute_limit(package, ref.draw))
                seconds[slug]["harness"].append(graded_in(package, ref, harness_box)[0])
                seconds[slug]["cold"].append(graded_in(package, ref, cold)[0])
                wait_warm(warm, package)
                took, timings = graded_in(package, ref, warm)
                seconds[slug]["warm"].append(took)
                phases[slug].append(timings)
                if stack is not None:
                    seconds[slug]["stack"].append(stack.submit_and_wait(slug))
            print(f"round {round_no + 1}/{args.runs} done", file=sys.stderr)
    finally:
        warm.close()
        cold.close()
        if stack is not None:
            stack.stop()
    print_table(seconds, phases, warm)
    if stack is not None:
        print_stack_phases(stack.phases, args.runs)
    if args.json:
        args.json.write_text(json.dumps({"seconds": seconds, "phases": phases}, indent=1))


class Stack:
    """A scratch app (SQLite, Redis db `redis_db`) and one real Celery worker, as `make run`
    starts them, with each assignment's reference bank filled for `runs` runs."""

    def __init__(self, slugs: list[str], runs: int, redis_db: int) -> None:
        from bench_grading import fill_bank_for
        from benchkit import Student, scratch_app, scratch_env, start_worker

        tmp = Path(tempfile.mkdtemp(prefix="dlgrader-speed-"))
        env = scratch_env(tmp, redis_db)
        settings = {"SANDBOX_WARM": "1", "REFERENCE_BANK_SIZE": str(runs)}
        env.update(settings)
        os.environ.update(settings)
        self.app = scratch_app(env, SUBMISSIONS_PER_HOUR=0, MAX_WAITING_SUBMISSIONS=0)
        for slug in slugs:
            fill_bank_for(self.app, slug, runs)
        self.student = Student(self.app, "speed")
        self.worker = start_worker(env, tmp / "worker.log", "--concurrency", "1", "-n", "speed@%h")
        self.phases: dict[str, list[dict]] = {slug: [] for slug in slugs}

    def submit_and_wait(self, slug: str) -> float:
        """Seconds from the upload to the run graded in the database."""
        from benchkit import finished, solution

        files = solution(slug)
        began = time.monotonic()
        response = self.student.submit(slug, files)
        uploaded = time.monotonic() - began
        assert response.status_code == 202, response.get_json()
        sub_id = response.get_json()["id"]
        while not finished(self.app, [sub_id]):
            time.sleep(0.02)
        took = time.monotonic() - began
        body = self.student.get(sub_id)
        if body["score"] != body["max_score"]:
            sys.exit(f"{slug}: the reference scored {body['score']} through the stack")
        self.phases[slug].append({"upload": uploaded, **self.timings(sub_id)})
        return took

    def timings(self, submission_id: int) -> dict:
        from sqlalchemy import select

        from webapp.extensions import db
        from webapp.models import GradingRun

        with self.app.app_context():
            query = select(GradingRun.timings).where(GradingRun.submission_id == submission_id)
            return dict(db.session.scalar(query) or {})

    def stop(self) -> None:
        self.worker.terminate()
        self.worker.wait(60)


def print_table(seconds: dict, phases: dict, warm: WarmDockerSandbox) -> None:
    med = {
        s: {c: statistics.median(v) if v else float("nan") for c, v in cols.items()}
        for s, cols in seconds.items()
    }
    print(
        "| assignment | compute limit | harness alone | cold container | warm container "
        "| submit -> graded | over the limit (warm; submit -> graded) |"
    )
    print("|---|---|---|---|---|---|---|")
    for slug, m in med.items():
        print(
            f"| {slug} | {m['compute']:.2f} s | {m['harness']:.2f} s | {m['cold']:.2f} s "
            f"| {m['warm']:.2f} s | {m['stack']:.2f} s "
            f"| +{m['warm'] - m['compute']:.2f} s; +{m['stack'] - m['compute']:.2f} s |"
        )
    print(f"\nwarm runs: {warm.taken} took a waiting container, {warm.cold} started their own")
    keys = (
        *("acquire", "container", "ready", "cases", "startup", "scoring", "total"),
        *("cpu", "case_cpu"),
    )
    print("\nwarm runs' phases (median s): " + ", ".join(keys))
    for slug, runs in phases.items():
        values = [statistics.median(r.get(k, 0.0) for r in runs) for k in keys]
        print(f"  {slug}: " + ", ".join(f"{v:.3f}" for v in values))


def print_stack_phases(phases: dict[str, list[dict]], runs: int) -> None:
    """Where submit -> graded went (medians of the measured runs, the warm-up run left out):
    the upload (the API call), the wait for a worker's claim, the grader, the store."""
    keys = ("upload", "queue_wait", "total", "store")
    print("\nsubmit -> graded phases (median s): " + ", ".join(keys))
    for slug, measured in phases.items():
        kept = measured[-runs:]
        values = [statistics.median(r.get(k, 0.0) for r in kept) for k in keys]
        print(f"  {slug}: " + ", ".join(f"{v:.3f}" for v in values))


if __name__ == "__main__":
    main()
