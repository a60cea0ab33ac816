"""The engine without Docker: a forbidden submission never reaches the sandbox."""

from __future__ import annotations

import pytest

from grader.engine import grade
from grader.job import CaseStatus, GradingJob, Limits, RunStatus
from grader.package import Package
from grader.sandbox import SandboxError, SandboxOutput


class NoSandbox:
    """A Sandbox that must not be used."""

    def run(self, bundle: bytes, limits: Limits, gpu_device, environment="torch") -> SandboxOutput:
        raise AssertionError("the sandbox was started")


class DeadHarness:
    """A Sandbox whose harness never got ready (e.g. a broken image)."""

    def run(self, bundle: bytes, limits: Limits, gpu_device, environment="torch") -> SandboxOutput:
        log = b"Traceback ...\nModuleNotFoundError: No module named 'numpy'\n"
        return SandboxOutput(b"", log, 1, False, False, False, 0.1)


def test_forbidden_submission_scores_zero_without_running(toy: Package):
    """Every case FORBIDDEN with 0 points; the message names file:line and the API."""
    files = {"ops.py": b"import numpy as np\n\nimport torch\n"}
    result = grade(GradingJob(files=files, package=toy), NoSandbox())
    assert result.status == RunStatus.GRADED
    assert (result.score, result.max_score) == (0.0, 12.0)
    assert {c.status for c in result.cases} == {CaseStatus.FORBIDDEN}
    assert "ops.py:3: import of 'torch' is not allowed in this assignment" in result.message
    assert (
        result.cases[0].feedback == "ops.py:3: import of 'torch' is not allowed in this assignment"
    )


def test_a_harness_that_never_starts_is_an_infrastructure_error(toy: Package):
    """No 'ready' record: SandboxError with the log's last lines, never a score of 0."""
    job = GradingJob(files=toy.solution_files(), package=toy)
    with pytest.raises(SandboxError, match="harness did not start: exit code 1.*numpy"):
        grade(job, DeadHarness())
