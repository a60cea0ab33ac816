"""Shared GPUs (GRADER_GPU_SHARING > 1): the worker refuses them without the explicit opt-in,
since a run's GPU memory cap is set inside the student's own process and can be lifted; and a
CUDA out-of-memory error on a shared GPU is retried as an infrastructure failure, never scored
against the run, unless the case itself held more than its cap. No GPU needed: the engine runs
against a fake sandbox whose "harness" reports canned, authenticated records."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import tarfile
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from grader import harness
from grader.engine import SuiteError, grade
from grader.gpus import (
    CoTenantOutOfMemory,
    GpuPool,
    UnsafeGpuSharing,
    check_sharing_allowed,
    over_gpu_cap,
)
from grader.job import CaseStatus, GradingJob, Limits, RunStatus
from grader.package import Package
from grader.reference import Draw, Reference
from grader.sandbox import SandboxError, SandboxOutput

MIB = 1 << 20
GIB = 1 << 30
DRAW = Draw(seed=7, secret=8)
STUDENT = {"ops.py": b"# the student's ops.py: the fake sandbox never runs it\n"}
# torch 2.x's words when the caching allocator cannot get a block (shortened), as the harness
# reports them: "Type: message (file line)".
OOM = (
    "OutOfMemoryError: CUDA out of memory. Tried to allocate 512.00 MiB. GPU 0 has a total "
    "capacity of 15.77 GiB of which 100.00 MiB is free. (ops.py line 3)"
)

Reply = Callable[[bool, str], tuple[str, str]]  # (is the reference solution, case) -> record


# ---------------------------------------------------------------- the worker's start-up check


def test_sharing_a_gpu_needs_the_explicit_opt_in():
    with pytest.raises(UnsafeGpuSharing) as refused:
        check_sharing_allowed(2, ["GPU-a"], {})
    assert "MIG" in str(refused.value) and "GRADER_GPU_SHARING_UNSAFE=1" in str(refused.value)
    for off in ({"GRADER_GPU_SHARING_UNSAFE": "0"}, {"GRADER_GPU_SHARING_UNSAFE": "yes"}):
        with pytest.raises(UnsafeGpuSharing):
            check_sharing_allowed(3, ["GPU-a", "GPU-b"], off)
    check_sharing_allowed(2, ["GPU-a"], {"GRADER_GPU_SHARING_UNSAFE": "1"})
    check_sharing_allowed(1, ["GPU-a"], {})  # the default: one run per GPU (or MIG instance)
    check_sharing_allowed(2, [], {})  # no GPU here: nothing is shared


def fake_worker(queues: set[str], concurrency: int = 2) -> SimpleNamespace:
    """What the Presence bootstep reads of a Celery worker."""
    amqp = SimpleNamespace(queues=SimpleNamespace(consume_from={q: None for q in queues}))
    return SimpleNamespace(app=SimpleNamespace(amqp=amqp), concurrency=concurrency)


def test_a_gpu_worker_with_sharing_does_not_start_without_the_opt_in(tmp_path, monkeypatch):
    from webapp import create_app
    from webapp.jobs.fleet import WorkerConfigError, presence_step

    monkeypatch.delenv("GRADER_GPU_SHARING_UNSAFE", raising=False)
    settings = {
        "TESTING": True,
        "SECRET_KEY": "x",
        "GRADER_GPUS": "GPU-a",
        "GRADER_GPU_SHARING": "2",
        "GRADER_GPU_LOCK_DIR": str(tmp_path),
    }
    with pytest.raises(WorkerConfigError, match="GRADER_GPU_SHARING_UNSAFE=1"):
        presence_step(create_app(settings))(fake_worker({"gpu"}))
    monkeypatch.setenv("GRADER_GPU_SHARING_UNSAFE", "1")
    step = presence_step(create_app(settings))(fake_worker({"gpu"}))
    assert step.gpus == ["GPU-a"]
    monkeypatch.delenv("GRADER_GPU_SHARING_UNSAFE")
    step = presence_step(create_app({**settings, "GRADER_GPU_SHARING": "1"}))(fake_worker({"gpu"}))
    assert step.gpus == ["GPU-a"]


def test_a_lease_says_whether_its_gpu_is_shared(tmp_path):
    assert GpuPool(["GPU-a"], sharing=1, lock_dir=tmp_path / "one").lease().shared is False
    assert GpuPool(["GPU-a"], sharing=2, lock_dir=tmp_path / "two").lease().shared is True


# ---------------------------------------------------------------- over the case's own cap?


def test_over_the_cap_is_what_the_case_held_plus_what_it_asked_for():
    """The harness's note says what the case's process held and its cap; the message names
    the block torch could not get. Over: held + asked > cap (torch's own test)."""
    note = harness.format_gpu_usage(3800 * MIB, 4096 * MIB)
    assert note == " [GPU memory when it ran out: 3800 MiB held by this case, cap 4096 MiB]"
    assert over_gpu_cap(OOM + note)  # 3800 + 512 > 4096
    assert not over_gpu_cap(OOM + harness.format_gpu_usage(1024 * MIB, 4096 * MIB))
    assert not over_gpu_cap(OOM)  # no measurement: counts as within the cap
    assert over_gpu_cap(OOM + harness.format_gpu_usage(4200 * MIB, 4096 * MIB))
    two_gib = OOM.replace("512.00 MiB", "2.00 GiB")
    assert over_gpu_cap(two_gib + harness.format_gpu_usage(2100 * MIB, 4096 * MIB))
    # Rounding favours "within": torch prints two decimals, held rounds down, the cap up.
    assert not over_gpu_cap(two_gib + harness.format_gpu_usage(2048 * MIB, 4096 * MIB))
    assert not over_gpu_cap(OOM + harness.format_gpu_usage(3584 * MIB + 1, 4096 * MIB - 1))
    # The note counts only at the very end, where the harness puts it.
    assert not over_gpu_cap(OOM + note + " (more text)")


def test_the_harness_notes_gpu_usage_only_for_a_gpu_out_of_memory_error():
    """No CUDA in this process (no GPU here, or a case on the CPU): no note; a CUDA out of
    memory error is recognised by type or by its words."""
    import torch

    assert harness.gpu_usage_note(torch.OutOfMemoryError("CUDA out of memory."), 4096) == ""
    assert harness.gpu_usage_note(ValueError("bad shape"), 4096) == ""
    assert harness._is_gpu_oom(torch.OutOfMemoryError("x"))
    assert harness._is_gpu_oom(RuntimeError("CUDA error: out of memory"))
    assert not harness._is_gpu_oom(MemoryError("out of memory"))
    assert harness.format_gpu_usage(0, 16 * GIB).endswith("cap 16384 MiB]")


# ---------------------------------------------------------------- the engine


class CannedHarness:
    """A Sandbox whose harness gets ready, then reports `reply(is_reference, case)` as each
    case's (status, message), with the run's record key, as the real harness would."""

    def __init__(self, reply: Reply, solution_ops: bytes) -> None:
        self.reply = reply
        self.solution_ops = solution_ops
        self.devices: list[str | None] = []

    def run(self, stdin: bytes, limits: Limits, gpu_device, environment="torch") -> SandboxOutput:
        self.devices.append(gpu_device)
        size = int.from_bytes(stdin[:8], "big")
        key = bytes.fromhex(stdin[8 + size :].decode().strip())
        with tarfile.open(fileobj=io.BytesIO(stdin[8 : 8 + size])) as tar:
            task = json.load(tar.extractfile("task.json"))
            ops = tar.extractfile("submission/ops.py").read()
        lines = []

        def emit(obj: dict) -> None:
            payload = json.dumps({"seq": len(lines), **obj}).encode()
            mac = hmac.new(key, payload, hashlib.sha256).hexdigest().encode()
            lines.append(payload + b" " + mac)

        emit({"event": "ready", "seconds": 0.1})
        for case in task["cases"]:
            emit({"event": "start", "case": case["name"]})
            status, message = self.reply(ops == self.solution_ops, case["name"])
            emit({"case": case["name"], "status": status, "message": message, "seconds": 0.01})
        emit({"event": "done", "seconds": 0.2})
        return SandboxOutput(b"\n".join(lines) + b"\n", b"", 0, False, False, False, 0.3)


@pytest.fixture
def gpu_toy(toy_variant) -> Package:
    """The toy package as a GPU assignment (torch environment) with a 4096 MiB GPU cap."""
    edits = [
        ('preload = ["numpy"]\n', 'preload = ["numpy"]\nenvironment = "torch"\n'),
        ("log_kb = 16", "log_kb = 16\ngpu_memory_mb = 4096"),
    ]
    return toy_variant({"assignment.toml": edits})


def student_run(package: Package, reply: Reply, shared: bool, gpu="GPU-a"):
    """grade() of the student's files on `gpu` with a known (empty) reference: only the
    student's sandbox runs."""
    sandbox = CannedHarness(reply, package.solution_files()["ops.py"])
    job = GradingJob(
        STUDENT, package, gpu_device=gpu, reference=Reference(DRAW, {}), gpu_shared=shared
    )
    return grade(job, sandbox)


def oom_in_matmul(message: str) -> Reply:
    """The matmul case runs out of GPU memory with `message`; every other case raises."""

    def reply(is_reference: bool, case: str) -> tuple[str, str]:
        if case == "matmul":
            return "raised", message
        return "raised", "ValueError: not implemented (ops.py line 1)"

    return reply


def test_an_out_of_memory_error_on_a_shared_gpu_is_retried_not_scored(gpu_toy):
    """No measurement, or one within the cap: another tenant took the memory; the run raises
    the retryable infrastructure error (grading requeues it, and after its retries fails it
    without a score) instead of a MEMORY case with 0 points."""
    within = OOM + harness.format_gpu_usage(1024 * MIB, 4096 * MIB)
    for message in (OOM, within, "RuntimeError: CUDA error: out of memory"):
        with pytest.raises(CoTenantOutOfMemory, match="'matmul'.*shared GPU") as raised:
            student_run(gpu_toy, oom_in_matmul(message), shared=True)
        assert isinstance(raised.value, SandboxError)


def test_an_out_of_memory_error_on_an_exclusive_gpu_is_the_students(gpu_toy):
    """Sharing 1 (or a MIG instance): nobody else is on the device; MEMORY, 0 points."""
    result = student_run(gpu_toy, oom_in_matmul(OOM), shared=False)
    matmul = next(c for c in result.cases if c.name == "matmul")
    assert result.status is RunStatus.GRADED
    assert (matmul.status, matmul.points) == (CaseStatus.MEMORY, 0.0)
    assert matmul.feedback == "GPU out of memory (limit 4096 MiB)"


def test_an_out_of_memory_error_over_the_cases_own_cap_on_a_shared_gpu_is_scored(gpu_toy):
    over = OOM + harness.format_gpu_usage(3800 * MIB, 4096 * MIB)
    result = student_run(gpu_toy, oom_in_matmul(over), shared=True)
    matmul = next(c for c in result.cases if c.name == "matmul")
    assert (matmul.status, matmul.points) == (CaseStatus.MEMORY, 0.0)
    assert matmul.detail == over  # what the case held and its cap: the student can see why


def test_other_errors_on_a_shared_gpu_are_scored_as_usual(gpu_toy):
    result = student_run(gpu_toy, oom_in_matmul("KeyError: 'w' (ops.py line 2)"), shared=True)
    assert {c.status for c in result.cases} == {CaseStatus.ERROR}


def test_a_gpu_out_of_memory_message_from_a_cpu_environment_is_not_retried(toy):
    """Only the torch environment's sandbox gets the GPU: elsewhere the words are the
    student's own, scored as they are."""
    result = student_run(toy, oom_in_matmul(OOM), shared=True)
    assert next(c for c in result.cases if c.name == "matmul").status is CaseStatus.MEMORY


def test_the_reference_solution_running_out_of_gpu_memory_on_a_shared_gpu_is_retried(gpu_toy):
    """Computed alongside the student's run on the same leased GPU: within its cap on a shared
    GPU it is a co-tenant's doing (retried); on an exclusive GPU the suite is at fault."""

    def reply(is_reference: bool, case: str) -> tuple[str, str]:
        if is_reference:
            return "raised", OOM
        return "raised", "ValueError: not implemented (ops.py line 1)"

    sandbox = CannedHarness(reply, gpu_toy.solution_files()["ops.py"])
    shared = GradingJob(STUDENT, gpu_toy, gpu_device="GPU-a", draw=DRAW, gpu_shared=True)
    with pytest.raises(CoTenantOutOfMemory):
        grade(shared, sandbox)
    assert sandbox.devices == ["GPU-a", "GPU-a"]  # the student's sandbox and the reference's
    exclusive = GradingJob(STUDENT, gpu_toy, gpu_device="GPU-a", draw=DRAW)
    with pytest.raises(SuiteError, match="reference solution fails"):
        grade(exclusive, sandbox)
