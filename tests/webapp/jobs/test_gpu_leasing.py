"""The worker's grade function leases a GPU for suites that use one: the sandbox is asked for
exactly the leased device, the lease is released afterwards, a run finding every GPU busy
raises NoFreeGpu (retried later), CPU suites never wait for a GPU, and a dead worker's sandbox
still holding a GPU is removed when its lease is taken again."""

from __future__ import annotations

import contextlib
from pathlib import Path

import docker
import docker.errors
import pytest

from grader.gpus import GpuPool, NoFreeGpu
from grader.job import GradingJob, RunStatus
from grader.package import load_package
from grader.sandbox import GPU_LEASE_LABEL, SANDBOX_LABEL, SandboxError
from webapp.jobs import tasks

FLEET = Path(__file__).resolve().parents[2] / "fixtures" / "fleet"
FAKE_GPU = "GPU-fake-1234"


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "GRADER_GPUS": FAKE_GPU, "GRADER_GPU_LOCK_DIR": str(tmp_path / "locks")}


@pytest.fixture
def pool(app_config) -> GpuPool:
    """Another process's view of this worker's GPU leases (same lock directory)."""
    return GpuPool([FAKE_GPU], lock_dir=Path(app_config["GRADER_GPU_LOCK_DIR"]))


def job(kind: str) -> GradingJob:
    package = load_package(FLEET / kind)
    return GradingJob(files=package.solution_files(), package=package)


def test_every_gpu_busy_raises_no_free_gpu(ctx, pool, monkeypatch):
    monkeypatch.setattr(tasks, "GPU_LEASE_WAIT_S", 0.3)
    held = pool.lease()
    with pytest.raises(NoFreeGpu, match="stayed busy"):
        tasks._grade_on_leased_gpu(job("gpu"))
    held.release()


@pytest.mark.docker
def test_the_sandbox_gets_the_leased_gpu_and_the_lease_is_released(ctx, pool):
    """Docker is asked for the leased device (it has no GPU here: a SandboxError)."""
    with pytest.raises(SandboxError, match="could not select device driver"):
        tasks._grade_on_leased_gpu(job("gpu"))
    assert pool.try_lease() is not None


@pytest.mark.docker
def test_cpu_and_fallback_runs_never_wait_for_a_gpu(ctx, pool, app, monkeypatch):
    """With every GPU leased, a gpu = "none" suite still grades; so does "preferred" on a
    worker without GPUs (on the CPU)."""
    monkeypatch.setattr(tasks, "GPU_LEASE_WAIT_S", 0.0)
    held = pool.lease()
    result = tasks._grade_on_leased_gpu(job("cpu"))
    assert (result.status, result.score) == (RunStatus.GRADED, 1.0)
    held.release()
    app.extensions.pop("gpu_pool")
    app.config["GRADER_GPUS"] = "none"
    result = tasks._grade_on_leased_gpu(job("pref"))
    assert (result.status, result.score) == (RunStatus.GRADED, 1.0)


@pytest.mark.docker
def test_a_dead_workers_sandbox_is_removed_when_its_gpu_is_leased_again(ctx, pool, app):
    """A sandbox still running under a GPU lease whose worker died (its flock is free) is
    removed by the next run that takes that lease; a sandbox under another lease is not."""
    client = docker.from_env()

    def sandbox_under(lease_key: str):
        return client.containers.run(
            app.config["SANDBOX_IMAGE"],
            ["python3", "-c", "import time; time.sleep(120)"],
            detach=True,
            network_mode="none",
            labels={SANDBOX_LABEL: "1", GPU_LEASE_LABEL: lease_key},
        )

    leftover, unrelated = sandbox_under(f"{FAKE_GPU}#slot0"), sandbox_under("GPU-other#slot0")
    try:
        with pytest.raises(SandboxError, match="could not select device driver"):
            tasks._grade_on_leased_gpu(job("gpu"))
        with pytest.raises(docker.errors.NotFound):
            leftover.reload()
        unrelated.reload()
        assert unrelated.status == "running"
    finally:
        for container in (leftover, unrelated):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
        client.close()
