"""GPU discovery and leases: one run per GPU (N with sharing), across processes, never leaked
by a process that dies holding one."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.gpus import (
    GpuPool,
    NoFreeGpu,
    discover_gpus,
    gpu_sharing,
    parse_gpu_setting,
    parse_nvidia_smi,
    pool_from_env,
)
from grader.sandbox import SandboxError

REPO = Path(__file__).resolve().parents[2]
SMI_LISTING = """\
GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5e1f0c2a-0000-0000-0000-000000000000)
  MIG 3g.20gb     Device  0: (UUID: MIG-2ad1aaaa-0000-0000-0000-000000000000)
  MIG 3g.20gb     Device  1: (UUID: MIG-2ad1bbbb-0000-0000-0000-000000000000)
GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-9c7d3e4f-0000-0000-0000-000000000000)
"""


@contextlib.contextmanager
def holder(lock_dir: Path, body: str) -> Iterator[subprocess.Popen]:
    """A separate Python process that leases from the same lock directory, says so, then runs
    `body`; killed afterwards if it still runs."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys, time
        from grader.gpus import GpuPool
        lease = GpuPool(["gpu0"], 1, {str(lock_dir)!r}).lease()
        print("held", lease.device, flush=True)
        """
    ) + textwrap.dedent(body)
    with subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout.readline().split() == ["held", "gpu0"]
            yield process
        finally:
            process.kill()


def test_gpu_setting_lists_ids_in_order_without_blanks_or_repeats():
    assert parse_gpu_setting("0,1") == ["0", "1"]
    assert parse_gpu_setting(" GPU-a , ,GPU-b,GPU-a") == ["GPU-a", "GPU-b"]
    assert parse_gpu_setting("") == parse_gpu_setting("none") == []


def test_nvidia_smi_listing_prefers_mig_instances_over_their_gpu():
    assert parse_nvidia_smi(SMI_LISTING) == [
        "MIG-2ad1aaaa-0000-0000-0000-000000000000",
        "MIG-2ad1bbbb-0000-0000-0000-000000000000",
        "GPU-9c7d3e4f-0000-0000-0000-000000000000",
    ]
    assert parse_nvidia_smi("No devices were found\n") == []


def test_discovery_uses_the_setting_else_nvidia_smi(tmp_path, monkeypatch):
    """GRADER_GPUS wins; unset, nvidia-smi -L is asked; without nvidia-smi there are none."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert discover_gpus({}) == []
    smi = tmp_path / "nvidia-smi"
    smi.write_text(f"#!/bin/sh\n/bin/cat <<'EOF'\n{SMI_LISTING}EOF\n")
    smi.chmod(0o755)
    assert discover_gpus({}) == parse_nvidia_smi(SMI_LISTING)
    assert discover_gpus({"GRADER_GPUS": "1"}) == ["1"]
    assert discover_gpus({"GRADER_GPUS": "none"}) == []


def test_sharing_setting():
    assert gpu_sharing({}) == 1 and gpu_sharing({"GRADER_GPU_SHARING": "3"}) == 3
    for bad in ("0", "two"):
        with pytest.raises(ValueError, match="GRADER_GPU_SHARING"):
            gpu_sharing({"GRADER_GPU_SHARING": bad})


def test_two_leases_on_one_gpu_conflict(tmp_path):
    """The second lease waits and fails; once the first is released it succeeds."""
    pool = GpuPool(["gpu0"], sharing=1, lock_dir=tmp_path)
    first = pool.lease()
    assert first.device == "gpu0"
    assert pool.try_lease() is None
    with pytest.raises(NoFreeGpu, match="1 GPU slots stayed busy"):
        pool.lease(wait_s=0.3)
    first.release()
    first.release()  # twice is harmless
    assert pool.lease().device == "gpu0"


def test_no_free_gpu_is_an_infrastructure_error(tmp_path):
    """The task retries a run that found no free GPU, like any sandbox failure."""
    assert issubclass(NoFreeGpu, SandboxError)
    with pytest.raises(NoFreeGpu, match="no GPU"):
        GpuPool([], lock_dir=tmp_path).lease()


def test_sharing_two_allows_two_runs_per_gpu_and_spreads_first(tmp_path):
    """sharing=2: two leases on one GPU, a third waits; with two GPUs each gets one first."""
    single = GpuPool(["gpu0"], sharing=2, lock_dir=tmp_path / "one")
    leases = [single.lease(), single.lease()]
    assert [(x.device, x.slot) for x in leases] == [("gpu0", 0), ("gpu0", 1)]
    assert single.try_lease() is None
    double = GpuPool(["gpu0", "gpu1"], sharing=2, lock_dir=tmp_path / "two")
    assert [double.lease().device for _ in range(4)] == ["gpu0", "gpu1", "gpu0", "gpu1"]
    assert double.capacity == 4 and double.try_lease() is None


@pytest.mark.parametrize(
    "ending",
    [
        "os._exit(3)\n",  # exits without releasing or cleaning up
        "os.kill(os.getpid(), signal.SIGKILL)\n",  # killed outright
    ],
)
def test_a_process_that_dies_holding_a_lease_does_not_leak_it(tmp_path, ending):
    with holder(tmp_path, ending) as other:
        assert other.wait(10) in (3, -signal.SIGKILL)
    assert GpuPool(["gpu0"], lock_dir=tmp_path).lease(wait_s=0).device == "gpu0"


def test_a_lease_in_another_process_conflicts_until_that_process_is_killed(tmp_path):
    """Worker processes on one host see each other's leases through the lock directory; a
    SIGKILL from outside (the OOM killer, Celery's hard time limit) frees the GPU."""
    pool = GpuPool(["gpu0"], lock_dir=tmp_path)
    with holder(tmp_path, "time.sleep(60)\n") as other:
        assert pool.try_lease() is None
        other.send_signal(signal.SIGKILL)
        other.wait(10)
        assert pool.lease(wait_s=2).device == "gpu0"


def test_leased_releases_when_the_block_raises(tmp_path):
    pool = GpuPool(["GPU-a/b"], lock_dir=tmp_path)
    with pytest.raises(RuntimeError), pool.leased() as lease:
        assert (lease.device, lease.key) == ("GPU-a/b", "GPU-a/b#slot0")
        raise RuntimeError("grading failed")
    assert pool.try_lease() is not None
    assert [p.name for p in tmp_path.iterdir()] == ["GPU-a_b.slot0.lock"]


def test_pool_from_env(tmp_path):
    env = {"GRADER_GPUS": "0,1", "GRADER_GPU_SHARING": "2", "GRADER_GPU_LOCK_DIR": str(tmp_path)}
    pool = pool_from_env(env)
    assert (pool.devices, pool.sharing, pool.lock_dir) == (["0", "1"], 2, tmp_path)
