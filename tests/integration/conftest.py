"""End-to-end fixtures: a migrated scratch database, a real Redis broker, real Celery worker
processes and the real Docker sandbox. Nothing here is mocked.

The database is a scratch PostgreSQL database when TEST_DATABASE_URL points at PostgreSQL
(CI), else a SQLite file shared by the test process and the worker processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from scripts.benchkit import die_with_parent
from tests.integration.support import ASSIGNMENTS, PASSWORD, Api, fresh_broker
from webapp import create_app
from webapp.extensions import db

REPO = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
BROKER_DB = int(os.environ.get("TEST_BROKER_DB", "13"))  # a Redis db of its own
FAST_SCRYPT = "scrypt:1024:8:1"


def scratch_database(base_url: str | None, tmp: Path) -> Iterator[str]:
    """Yield a fresh empty database URL; drop it afterwards (PostgreSQL) or leave the tmp file."""
    if not base_url or not base_url.startswith("postgresql"):
        yield f"sqlite:///{tmp / 'integration.db'}"
        return
    name = f"dlgrader_it_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from scratch_database(os.environ.get("TEST_DATABASE_URL"), tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def broker_url() -> str:
    return fresh_broker(BROKER_DB)


@pytest.fixture(scope="session")
def env(database_url: str, broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Environment shared by the test's app and the worker processes (same database, broker)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": broker_url,
        "SECRET_KEY": "integration-secret",
        "SANDBOX_IMAGE": os.environ.get("SANDBOX_IMAGE", "dlgrader-sandbox:cpu"),
        "OMP_NUM_THREADS": "1",
    }


@pytest.fixture(scope="session")
def live_app(env: dict) -> Iterator[Flask]:
    """The app on the migrated database with the course's assignments and some people."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": env["DATABASE_URL"],
            "REDIS_URL": env["REDIS_URL"],
            "SECRET_KEY": env["SECRET_KEY"],
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": FAST_SCRYPT,
        }
    )
    cli = app.test_cli_runner()
    for args in (
        ["db", "upgrade"],
        ["assignments", "sync", str(ASSIGNMENTS)],
        *(
            ["users", "create", name, "--role", role, "--password", PASSWORD]
            for name, role in (
                ("ana", "student"),
                ("ben", "student"),
                ("tia", "ta"),
                ("ivo", "instructor"),
            )
        ),
    ):
        result = cli.invoke(args=args)
        assert result.exit_code == 0, (args, result.output, result.exception)
    yield app
    with app.app_context():
        db.engine.dispose()  # close pooled connections before the scratch database is dropped


@dataclass
class Worker:
    """A real `celery worker` process consuming the given queues."""

    env: dict
    queues: str = "cpu"
    name: str = field(default_factory=lambda: f"it-{uuid.uuid4().hex[:6]}")
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    def start(self, log_dir: Path, concurrency: int = 1, beat: bool = False) -> Worker:
        """Start it (with beat in the same process, as `make run` does, when `beat`)."""
        self.log_path = log_dir / f"{self.name}.log"
        args = [
            CELERY,
            "-A",
            "webapp.jobs.worker",
            "worker",
            "-Q",
            self.queues,
            "-n",
            f"{self.name}@%h",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-mingle",
        ]
        if beat:
            args += ["-B", "--schedule", str(log_dir / f"{self.name}-beat-schedule")]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                args,
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,  # a killed test session leaves no worker behind
            )
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log()
            if "ready." in self.log():
                return
            time.sleep(0.3)
        raise AssertionError(f"worker {self.name} not ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def kill(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


@pytest.fixture(scope="session")
def worker(
    env: dict, live_app: Flask, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    w = Worker(env).start(tmp_path_factory.mktemp("workers"), concurrency=2)
    yield w
    w.kill()


@pytest.fixture(scope="session")
def api(live_app: Flask) -> dict[str, Api]:
    return {name: Api(live_app, name) for name in ("ana", "ben", "tia", "ivo")}
