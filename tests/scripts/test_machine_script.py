"""scripts/machine.sh, which `make run`, `make test` and `.ci/run` start with: it leaves what
already works alone and says so, and names what it cannot bring up (exit 1) without trying
to start anything it does not own (an engine behind DOCKER_HOST, a Redis on another host)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "machine.sh"


def machine(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_what_already_runs_is_left_alone_and_reported():
    done = machine("--test")
    assert done.returncode == 0, done.stderr
    assert "[machine] Docker engine: answering" in done.stdout
    assert "[machine] Redis at 127.0.0.1:6379: answering" in done.stdout
    assert "[machine] chromium: " in done.stdout and "[machine] docker-compose: " in done.stdout


def test_an_engine_behind_docker_host_that_does_not_answer_is_named_not_replaced():
    done = machine(DOCKER_HOST="unix:///nonexistent/docker.sock")
    assert done.returncode == 1
    assert "missing: a running Docker engine" in done.stderr
    assert "set DOCKER_HOST" in done.stderr  # the way to fix it


def test_a_redis_on_another_address_that_does_not_answer_is_named():
    done = machine(REDIS_URL="redis://127.0.0.2:1/0")  # refused at once: nothing listens there
    assert done.returncode == 1
    assert "missing: Redis at 127.0.0.2:1" in done.stderr
