"""`make run`'s preflight: an unreachable Docker engine is one clear line with the fix, exit 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "preflight.py"


def test_unreachable_docker_is_reported_with_the_fix(tmp_path: Path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path / 'no-such.sock'}"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Docker is not reachable" in lines[0] and "start the engine" in lines[0]
    assert str(tmp_path) in lines[0]


def test_reachable_docker_and_redis_pass():
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
