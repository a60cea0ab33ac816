"""What the benchmark scripts share: a scratch database and broker, a real Celery worker
process, students on the JSON API, the reference solutions.

Scripts run as `.venv/bin/python scripts/<name>.py`; this module puts the repository on
sys.path so they can import the app after `scratch_env` has set the environment it reads.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def scratch_env(tmp: Path, redis_db: int) -> dict[str, str]:
    """Environment for the app and its workers: a SQLite file in `tmp`, Redis db `redis_db`
    (flushed); also applied to this process, where the app reads it."""
    broker = f"redis://127.0.0.1:6379/{redis_db}"
    redis.Redis.from_url(broker).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "REDIS_URL": broker,
        "SECRET_KEY": "bench",
        "SESSION_COOKIE_SECURE": "0",
        "OMP_NUM_THREADS": "1",
    }
    os.environ.update(env)
    return env


def scratch_app(env: dict[str, str], **config: object):
    """The app on the scratch database, migrated, with the course's assignments."""
    from webapp import create_app

    app = create_app({"DATABASE_URL": env["DATABASE_URL"], "REDIS_URL": env["REDIS_URL"], **config})
    cli = app.test_cli_runner()
    for cmd in (["db", "upgrade"], ["assignments", "sync", str(REPO / "assignments")]):
        result = cli.invoke(args=cmd)
        assert result.exit_code == 0, (cmd, result.output)
    return app


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """For Popen's preexec_fn: the child gets SIGKILL when the process that started it dies,
    however it dies (a test or benchmark killed with -9 leaves no worker consuming a broker
    db that the next run will use)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def start_worker(env: dict[str, str], log: Path, *options: str) -> subprocess.Popen:
    """A `celery worker` on the cpu queue (in a session of its own: killpg stops all of it),
    started with `options`; returns once it is ready."""
    celery = str(Path(sys.executable).with_name("celery"))
    args = [
        celery,
        "-A",
        "webapp.jobs.worker",
        "worker",
        "-Q",
        "cpu",
        "--loglevel",
        "INFO",
        *options,
    ]
    proc = subprocess.Popen(
        args, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True, preexec_fn=die_with_parent,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"worker did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)
    return proc


def solution(slug: str, tail: bytes = b"") -> dict[str, bytes]:
    """An assignment's reference solution files; `tail` is appended to the first file."""
    root = REPO / "assignments" / slug / "solution"
    files = {p.name: p.read_bytes() for p in sorted(root.glob("*.py"))}
    files[sorted(files)[0]] += tail
    return files


def finished(app, submission_ids: list[int]) -> set[int]:
    """The submissions among `submission_ids` whose run is graded or failed: one database
    query (a benchmark that polls must not eat the cores it measures)."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import GradingRun, RunState

    with app.app_context():
        return set(
            db.session.scalars(
                select(GradingRun.submission_id).where(
                    GradingRun.submission_id.in_(submission_ids),
                    GradingRun.status.in_((RunState.GRADED, RunState.FAILED)),
                )
            )
        )


class Student:
    """A student account (created) and its API token, on the app's test client."""

    def __init__(self, app, name: str) -> None:
        cli = app.test_cli_runner()
        cli.invoke(args=["users", "create", name, "--role", "student", "--password", "pw-bench-1"])
        token = cli.invoke(args=["tokens", "create", name]).output.strip()
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def submit(self, slug: str, files: dict[str, bytes]):
        data = {"files": [(BytesIO(content), name) for name, content in files.items()]}
        url = f"/api/v1/assignments/{slug}/submissions"
        return self.client.post(
            url, data=data, headers=self.headers, content_type="multipart/form-data"
        )

    def get(self, submission_id: int) -> dict:
        url = f"/api/v1/submissions/{submission_id}"
        return self.client.get(url, headers=self.headers).get_json()

    def wait(self, submission_id: int, timeout_s: float = 600) -> dict:
        """The submission once graded or failed (polls every 50 ms)."""
        deadline = time.monotonic() + timeout_s
        while (body := self.get(submission_id))["status"] not in ("graded", "failed"):
            if time.monotonic() > deadline:
                sys.exit(f"submission {submission_id} not graded within {timeout_s:g} s")
            time.sleep(0.05)
        return body


TICK = os.sysconf("SC_CLK_TCK")
DOCKER_CPUACCT = Path("/sys/fs/cgroup/cpuacct/docker/cpuacct.usage")  # cgroup v1, cgroupfs


def _process_cpu() -> dict[int, tuple[str, int, float]]:
    """pid -> (name, parent pid, CPU seconds of it and of its children it has reaped)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()  # fields[0] is the state (stat field 3)
        ticks = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        table[int(entry.name)] = (name, int(fields[1]), ticks / TICK)
    return table


class CpuLedger:
    """Where the machine's CPU time went between `start()` and `stop()`, by owner: the
    sandbox containers (their cgroup, which keeps the time of removed containers), the Docker
    engine, the Celery worker's process tree, this process (the web app the benchmark drives
    in-process, and its polling), PostgreSQL, Redis, and the rest (container shims and runc,
    which exit unreaped by anything we read, and the kernel's own work)."""

    NAMED = {"dockerd": "dockerd", "containerd": "containerd", "postgres": "postgres",
             "redis-server": "redis"}  # fmt: skip

    def __init__(self, worker_pid: int) -> None:
        self.worker_pid = worker_pid

    def _reading(self) -> dict[str, float]:
        table = _process_cpu()
        worker = {self.worker_pid}
        grew = True  # the worker's descendants, to any depth
        while grew:
            grew = False
            for pid, (_, ppid, _) in table.items():
                if ppid in worker and pid not in worker:
                    worker.add(pid)
                    grew = True
        owners = {"worker": 0.0, "benchmark": 0.0, **{v: 0.0 for v in self.NAMED.values()}}
        for pid, (name, _, sec) in table.items():
            if pid in worker:
                owners["worker"] += sec
            elif pid == os.getpid():
                owners["benchmark"] += sec
            elif name in self.NAMED:
                owners[self.NAMED[name]] += sec
        if DOCKER_CPUACCT.exists():
            owners["containers"] = int(DOCKER_CPUACCT.read_text()) / 1e9
        busy = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in busy[:8])
        owners["total"] = (user + nice + system + irq + softirq + steal) / TICK
        return owners

    def start(self) -> None:
        self.before = self._reading()

    def stop(self) -> dict[str, float]:
        after = self._reading()
        spent = {k: after[k] - self.before.get(k, 0.0) for k in after}
        spent["other"] = spent["total"] - sum(v for k, v in spent.items() if k != "total")
        return spent
