"""The GPUs a worker grades on, and leases: one grading run per GPU at a time (or N with sharing).

Which GPUs: GRADER_GPUS ("0,1", or GPU/MIG UUIDs; "" or "none" for none); when it is unset,
the devices `nvidia-smi -L` lists (the MIG instances of a GPU in MIG mode, else its UUID);
none when there is no nvidia-smi. UUIDs are preferred: they name the same device for the
host's Docker engine whatever order a container sees the GPUs in.

Leases are `fcntl.flock` locks on one file per (device, slot) in a lock directory
(GRADER_GPU_LOCK_DIR). GRADER_GPU_SHARING=N gives each device N slots, so N runs may share it
(only with the explicit opt-in below: sharing is unsafe).
Why flock rather than Redis keys with a TTL refreshed while a run lasts:
- the kernel drops a lock when its process dies, however it dies (SIGKILL, the OOM killer,
  Celery's hard time limit): a crashed run cannot leak its GPU, and the GPU is free at once,
  not after a TTL has run out;
- no refresher thread that a stalled process starves, letting a second run onto a GPU the
  first still uses; no clocks to compare;
- a GPU belongs to one host, so its lock needs no network and works while Redis restarts.
Every worker process on a host must see the same directory: Celery's prefork children and
several `celery worker` processes do; worker containers need the host directory bind-mounted
(docker-compose.yml mounts /run/dlgrader/gpu-locks). Use a local filesystem (flock over NFS is
not dependable). Limit: a sandbox whose worker was killed mid-run keeps its GPU until the
harness's per-case timeouts end it, after the lease is already free again.

Sharing a GPU is unsafe, so a worker refuses it unless the deployer opts in. A run's GPU
memory cap ([limits] gpu_memory_mb) is torch.cuda.set_per_process_memory_fraction, set by the
harness inside the case's own process: the student's code can set it again (1.0) and take the
whole device, and nothing outside the process stops it: Docker's device request and CUDA
give a container no GPU memory limit of its own. What does isolate memory: MIG, where each
instance is its own device with its own memory (list the instances' UUIDs in GRADER_GPUS and
keep sharing at 1); or an MPS server's pinned device memory limit (the control daemon's
set_default_device_pinned_mem_limit, CUDA_MPS_PINNED_DEVICE_MEM_LIMIT), enforced by the server
outside the client, which would need an MPS server per GPU and its pipe directory in every
sandbox: not supported here (nor the cgroup v2 dmem limits of the newest drivers and kernels).
So GRADER_GPU_SHARING above 1 needs GRADER_GPU_SHARING_UNSAFE=1 as well (check_sharing_allowed;
the worker's start-up check calls it), and even then a co-tenant's out-of-memory error is never
scored against a run: a lease on a device with several slots is `shared`, the job carries it
(GradingJob.gpu_shared) and the engine turns a case's CUDA out-of-memory error on a shared GPU
into CoTenantOutOfMemory (a SandboxError: the run is retried, and after its retries it fails
without a score) unless the case itself held more than its cap (over_gpu_cap).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox import SandboxError

DEFAULT_LOCK_DIR = Path("/tmp/dlgrader-gpu-locks")
NVIDIA_SMI_TIMEOUT_S = 10.0
POLL_S = 0.25  # how often a waiting lease tries again
UUID_RE = re.compile(r"\(UUID: ([^)]+)\)")
UNSAFE_CHARS_RE = re.compile(r"[^A-Za-z0-9_.-]")
SHARING_UNSAFE = "GRADER_GPU_SHARING_UNSAFE"  # "1": allow GRADER_GPU_SHARING > 1 (see above)
MIB = 1024 * 1024
# What the harness appends to the exception text of a case that ran out of GPU memory (see
# grader/harness.py, gpu_usage_note): the case process's reserved memory and its cap, in MiB.
GPU_USAGE_RE = re.compile(
    r"\[GPU memory when it ran out: (\d+) MiB held by this case, cap (\d+) MiB\]\s*$"
)
# torch's caching allocator names the block it failed to get: "Tried to allocate 2.00 GiB".
TRIED_RE = re.compile(r"Tried to allocate (\d+(?:\.\d+)?) (bytes|KiB|MiB|GiB|TiB)")
UNIT_BYTES = {"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
PRINTED_ROUNDING = 0.005  # torch prints sizes with two decimals


class NoFreeGpu(SandboxError):
    """Every slot of every GPU stayed leased for the whole wait: try the run again later."""


class CoTenantOutOfMemory(SandboxError):
    """A case ran out of GPU memory on a shared GPU without holding more than its own cap:
    another run on the device most likely took the memory. Not the student's fault, so the run
    is not scored; it is retried like any infrastructure failure."""


class UnsafeGpuSharing(ValueError):
    """GRADER_GPU_SHARING > 1 without the explicit opt-in; the message says what to do."""


def parse_gpu_setting(raw: str) -> list[str]:
    """GRADER_GPUS's value as device ids, in order, without blanks or repeats."""
    if raw.strip().lower() == "none":
        return []
    ids = [part.strip() for part in raw.split(",")]
    return list(dict.fromkeys(i for i in ids if i))


def parse_nvidia_smi(listing: str) -> list[str]:
    """Device UUIDs from `nvidia-smi -L`: a GPU's MIG instances replace the GPU itself."""
    devices: list[list[str]] = []  # per GPU: its own UUID, then its MIG instances'
    for line in listing.splitlines():
        found = UUID_RE.search(line)
        if found is None:
            continue
        if line.lstrip().startswith("GPU "):
            devices.append([found.group(1)])
        elif line.lstrip().startswith("MIG ") and devices:
            devices[-1].append(found.group(1))
    return [uuid for gpu in devices for uuid in (gpu[1:] or gpu)]


def nvidia_smi_devices() -> list[str]:
    """The devices nvidia-smi lists; none when it is missing or fails (a CPU-only host)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listing = subprocess.run(
            [smi, "-L"], capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_nvidia_smi(listing)


def discover_gpus(env: Mapping[str, str] = os.environ) -> list[str]:
    """This worker's GPUs: GRADER_GPUS when it is set, else what nvidia-smi lists."""
    raw = env.get("GRADER_GPUS")
    return parse_gpu_setting(raw) if raw is not None else nvidia_smi_devices()


def gpu_sharing(env: Mapping[str, str] = os.environ) -> int:
    """GRADER_GPU_SHARING: how many runs may share one GPU (default 1; at least 1)."""
    raw = env.get("GRADER_GPU_SHARING", "").strip() or "1"
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"GRADER_GPU_SHARING must be a whole number, not {raw!r}") from exc
    if value < 1:
        raise ValueError("GRADER_GPU_SHARING must be at least 1")
    return value


def check_sharing_allowed(sharing: int, devices: Sequence[str], env: Mapping[str, str]) -> None:
    """Raise UnsafeGpuSharing when runs would share a GPU (sharing > 1 on a worker with GPUs)
    and the deployer has not opted in with GRADER_GPU_SHARING_UNSAFE=1.

    Why: the per-run GPU memory cap is set inside the student's own process and the student's
    code can lift it, so a co-tenant can take the memory another run needs (module docstring).
    """
    if sharing <= 1 or not devices or env.get(SHARING_UNSAFE, "").strip() == "1":
        return
    raise UnsafeGpuSharing(
        f"GRADER_GPU_SHARING={sharing} lets {sharing} runs share one GPU, but a run's GPU memory "
        "cap is set inside the student's own process and the student's code can lift it, taking "
        "the memory the other runs need. To give runs a GPU of their own each, split the GPU "
        "with MIG and list the MIG instances' UUIDs in GRADER_GPUS with GRADER_GPU_SHARING=1. "
        f"To share anyway, knowing the cap is only advisory, also set {SHARING_UNSAFE}=1."
    )


def over_gpu_cap(message: str) -> bool:
    """Whether a case's CUDA out-of-memory error shows the case itself over its GPU memory cap:
    what its process held plus the block torch failed to get is more than the cap (the same
    test torch's caching allocator applies before it asks the device). False when the message
    lacks the harness's measurement. The request is read as its smallest printed value and the
    harness rounds held down and the cap up, so doubt counts as within the cap (retried).

    Who wrote this: the message comes from the case's own process, which runs the student's
    code, so a student can fake it. Faking can only choose between a retry (within the cap;
    after the retries the run fails without a score) and MEMORY (0 points for that case): never
    points. A genuine measurement is what torch itself reports."""
    usage = GPU_USAGE_RE.search(message)
    if usage is None:
        return False
    held_mib, cap_mib = int(usage.group(1)), int(usage.group(2))
    tried = TRIED_RE.search(message)
    wanted_mib = 0.0
    if tried is not None:
        wanted_mib = (float(tried.group(1)) - PRINTED_ROUNDING) * UNIT_BYTES[tried.group(2)] / MIB
    return held_mib + max(wanted_mib, 0.0) > cap_mib


@dataclass
class Lease:
    """One slot of one GPU, held until release() or until this process ends. `shared`: the
    device has other slots, so other runs may use it at the same time (GradingJob.gpu_shared)."""

    device: str
    slot: int
    fd: int | None
    shared: bool = False

    @property
    def key(self) -> str:
        """Names the slot on this host; sandboxes run under the lease carry it as a label."""
        return f"{self.device}#slot{self.slot}"

    def release(self) -> None:
        """Give the slot back (closing the file drops the lock); safe to call twice."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class GpuPool:
    """Leases on `devices`, `sharing` runs per device, shared by all processes using lock_dir.
    A pool with sharing > 1 is only built for a worker that opted in (check_sharing_allowed)."""

    def __init__(
        self, devices: Sequence[str], sharing: int = 1, lock_dir: Path = DEFAULT_LOCK_DIR
    ) -> None:
        if sharing < 1:
            raise ValueError("sharing must be at least 1")
        self.devices = list(devices)
        self.sharing = sharing
        self.lock_dir = Path(lock_dir)

    @property
    def capacity(self) -> int:
        """How many runs may hold a lease at once."""
        return len(self.devices) * self.sharing

    def lock_path(self, device: str, slot: int) -> Path:
        return self.lock_dir / f"{UNSAFE_CHARS_RE.sub('_', device)}.slot{slot}.lock"

    def try_lease(self) -> Lease | None:
        """A free slot now, or None. Slot 0 of every device is tried before any slot 1, so
        runs spread over the GPUs before they share one."""
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        for slot in range(self.sharing):
            for device in self.devices:
                fd = _try_lock(self.lock_path(device, slot))
                if fd is not None:
                    return Lease(device, slot, fd, shared=self.sharing > 1)
        return None

    def lease(self, wait_s: float = 0.0) -> Lease:
        """A free slot, waiting up to wait_s for one; NoFreeGpu when none came free."""
        if not self.devices:
            raise NoFreeGpu("this worker has no GPU to lease")
        deadline = time.monotonic() + wait_s
        while True:
            lease = self.try_lease()
            if lease is not None:
                return lease
            if time.monotonic() >= deadline:
                raise NoFreeGpu(f"all {self.capacity} GPU slots stayed busy for {wait_s:g} s")
            time.sleep(POLL_S)

    @contextlib.contextmanager
    def leased(self, wait_s: float = 0.0) -> Iterator[Lease]:
        """A lease for the block; released afterwards whatever happens."""
        lease = self.lease(wait_s)
        try:
            yield lease
        finally:
            lease.release()


def _try_lock(path: Path) -> int | None:
    """An open descriptor holding an exclusive flock on path, or None if another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return None
        raise
    return fd


def pool_from_env(env: Mapping[str, str] = os.environ) -> GpuPool:
    """The pool this worker process leases from, configured by GRADER_GPUS,
    GRADER_GPU_SHARING and GRADER_GPU_LOCK_DIR. It does not judge sharing: the worker's
    start-up check (webapp.jobs.fleet) refuses sharing > 1 without GRADER_GPU_SHARING_UNSAFE=1."""
    lock_dir = Path(env.get("GRADER_GPU_LOCK_DIR") or DEFAULT_LOCK_DIR)
    return GpuPool(discover_gpus(env), gpu_sharing(env), lock_dir)
