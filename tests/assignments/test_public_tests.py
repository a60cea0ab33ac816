"""Every assignment's public tests, run as the handout tells students to run them: all pass on
the reference solution, and all fail on the starter (none passes by accident)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ASSIGNMENTS = Path(__file__).resolve().parents[2] / "assignments"
SLUGS = ("backprop", "optimizers", "cnn", "rnn")


def run_public_tests(slug: str, impl: str) -> subprocess.CompletedProcess:
    """pytest on <slug>/public_tests against <slug>/<impl> (solution or starter)."""
    package = ASSIGNMENTS / slug
    env = {
        **os.environ,
        "DLGRADER_IMPL_DIR": str(package / impl),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "public_tests"],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_public_tests_pass_on_the_solution(slug: str) -> None:
    run = run_public_tests(slug, "solution")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary and "failed" not in summary, summary


@pytest.mark.parametrize("slug", SLUGS)
def test_public_tests_all_fail_on_the_starter(slug: str) -> None:
    run = run_public_tests(slug, "starter")
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert " failed" in summary and "passed" not in summary, summary
