"""GPU paths through a real Docker sandbox on a machine without a GPU."""

from __future__ import annotations

import pytest

from grader.engine import grade
from grader.job import CaseStatus, GradingJob
from grader.sandbox import SandboxError

pytestmark = pytest.mark.docker

CUDA_OOM = """
class OutOfMemoryError(RuntimeError):  # torch.OutOfMemoryError's name and wording
    pass


def relu(x):
    raise OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
"""


def test_cuda_out_of_memory_in_a_case_is_reported_with_the_gpu_limit(run_toy, solution_with):
    """The harness's report of the error crosses the sandbox and becomes a MEMORY case."""
    result = run_toy(solution_with("relu", CUDA_OOM))
    relu = next(c for c in result.cases if c.name == "relu")
    assert relu.status == CaseStatus.MEMORY and relu.points == 0
    assert relu.feedback == "GPU out of memory (limit 4096 MiB)"
    assert relu.detail.startswith("OutOfMemoryError: CUDA out of memory")
    assert "ops.py line" in relu.detail
    assert result.score == 10.0


def test_a_gpu_the_engine_cannot_provide_is_an_infrastructure_error(
    toy_variant, sandbox, leftovers
):
    """A device request Docker cannot satisfy raises SandboxError (retried), never a score."""
    torch_env = ('preload = ["numpy"]\n', 'preload = ["numpy"]\nenvironment = "torch"\n')
    toy = toy_variant({"assignment.toml": torch_env})
    job = GradingJob(toy.solution_files(), toy, gpu_device="GPU-not-on-this-host")
    with pytest.raises(SandboxError):
        grade(job, sandbox)
    assert leftovers() == []
