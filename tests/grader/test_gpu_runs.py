"""A GPU run without a GPU: its container spec, the memory cap the task carries, the harness's
memory fraction and how a CUDA out-of-memory error is reported."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from docker.types import DeviceRequest

from grader import harness
from grader.engine import run_suite
from grader.job import CaseStatus, Limits
from grader.package import CaseSpec, Package
from grader.protocol import CaseRecord
from grader.reference import Draw
from grader.rundata import RunData
from grader.sandbox import SandboxError, SandboxOutput, container_spec
from grader.scoring import RAISED_FEEDBACK, RunOutcome, failed_record, score_case

GIB = 1 << 30
DRAW = Draw(seed=7, secret=8)


class SpecRecorder:
    """A Sandbox that records the container spec DockerSandbox would create, and the task,
    then ends like a harness that never started (so nothing is scored)."""

    def __init__(self) -> None:
        self.specs: list[dict] = []
        self.tasks: list[dict] = []

    def run(self, stdin: bytes, limits: Limits, gpu_device, environment="torch") -> SandboxOutput:
        self.specs.append(container_spec(limits, gpu_device, "dlgrader-sandbox:cuda"))
        size = int.from_bytes(stdin[:8], "big")
        with tarfile.open(fileobj=io.BytesIO(stdin[8 : 8 + size])) as tar:
            self.tasks.append(json.load(tar.extractfile("task.json")))
        return SandboxOutput(b"", b"", 1, False, False, False, 0.0)


@pytest.fixture
def gpu_toy(toy_variant) -> Package:
    """The toy package as a GPU assignment (torch environment) with a 1536 MiB GPU memory cap."""
    edits = [
        ('preload = ["numpy"]\n', 'preload = ["numpy"]\nenvironment = "torch"\n'),
        ("log_kb = 16", "log_kb = 16\ngpu_memory_mb = 1536"),
    ]
    return toy_variant({"assignment.toml": edits})


def test_gpu_run_requests_exactly_the_leased_device_and_caps_its_memory(gpu_toy):
    """The leased id is the only device requested and the only one visible; the task tells
    the harness to run on cuda under the assignment's GPU memory cap."""
    recorder = SpecRecorder()
    with pytest.raises(SandboxError):
        run_suite(gpu_toy, gpu_toy.solution_files(), DRAW, RunData(), "GPU-5e1f0c2a", recorder)
    (spec,), (task,) = recorder.specs, recorder.tasks
    assert spec["device_requests"] == [
        DeviceRequest(device_ids=["GPU-5e1f0c2a"], capabilities=[["gpu"]])
    ]
    assert spec["device_requests"][0]["Count"] == 0  # the listed id only, never "all"
    assert spec["environment"]["NVIDIA_VISIBLE_DEVICES"] == "GPU-5e1f0c2a"
    assert spec["environment"]["CUDA_VISIBLE_DEVICES"] == "0"
    assert (task["device"], task["gpu_memory_mb"]) == ("cuda", 1536)


def test_cpu_run_requests_no_device(gpu_toy):
    recorder = SpecRecorder()
    with pytest.raises(SandboxError):
        run_suite(gpu_toy, gpu_toy.solution_files(), DRAW, RunData(), None, recorder)
    assert "device_requests" not in recorder.specs[0]
    assert recorder.specs[0]["environment"]["NVIDIA_VISIBLE_DEVICES"] == "void"
    assert recorder.tasks[0]["device"] == "cpu"


def test_memory_fraction_follows_the_limit():
    """limit / device size, at most the whole device; no limit is the whole device."""
    assert harness.gpu_memory_fraction(4096, 16 * GIB) == 0.25
    assert harness.gpu_memory_fraction(81920, 16 * GIB) == 1.0
    assert harness.gpu_memory_fraction(0, 16 * GIB) == 1.0
    assert 0 < harness.gpu_memory_fraction(1, 80 * GIB) < 0.01


def test_a_case_uses_cuda_only_when_the_run_holds_a_gpu_it_can_see():
    import torch

    assert harness._device("cpu", 1024) == "cpu"
    assert harness._device("cuda", 1024) == ("cuda" if torch.cuda.is_available() else "cpu")


def oom_message() -> str:
    """What the harness reports for torch's CUDA out-of-memory error raised in a student file."""
    import torch

    def student_code() -> None:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    in_submission = f"{harness.SUBMISSION}/cnn.py"  # as if the student's cnn.py raised it
    student_code.__code__ = student_code.__code__.replace(co_filename=in_submission)
    try:
        student_code()
    except torch.OutOfMemoryError as exc:
        return harness.describe(exc)
    raise AssertionError("not raised")


def test_cuda_out_of_memory_is_a_memory_status_naming_the_gpu_limit():
    message = oom_message()
    assert message.startswith("OutOfMemoryError: CUDA out of memory") and "cnn.py line" in message
    status, feedback = failed_record(CaseRecord("raised", message), RunOutcome(gpu_memory_mb=1536))
    assert status is CaseStatus.MEMORY
    assert feedback == "GPU out of memory (limit 1536 MiB)"  # where: in the detail only
    spec = CaseSpec(name="train", points=5)
    result = score_case(spec, CaseRecord("raised", message), False, RunOutcome(), lambda o: (1, ""))
    assert (result.status, result.points) == (CaseStatus.MEMORY, 0.0)


@pytest.mark.parametrize(
    "message",
    [
        "RuntimeError: CUDA out of memory. Tried to allocate 2.00 MiB",  # torch before 1.13
        "RuntimeError: CUDA error: out of memory",  # a kernel's own allocation
        "torch.OutOfMemoryError: CUDA out of memory.",
    ],
)
def test_other_wordings_of_cuda_oom(message):
    status, feedback = failed_record(CaseRecord("raised", message), RunOutcome(gpu_memory_mb=0))
    assert (status, feedback) == (CaseStatus.MEMORY, "GPU out of memory (whole GPU)")


def test_other_errors_keep_their_message_as_the_detail():
    """The grader's feedback is its own words; the student's exception text is the detail."""
    record = CaseRecord("raised", "ValueError: out of memory budget (cnn.py line 3)")
    assert failed_record(record, RunOutcome()) == (CaseStatus.ERROR, RAISED_FEEDBACK)
    spec = CaseSpec(name="conv", points=2)
    result = score_case(spec, record, False, RunOutcome(), lambda o: (True, ""))
    assert (result.feedback, result.detail) == (RAISED_FEEDBACK, record.message)
