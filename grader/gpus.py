"""The GPUs a worker grades on, and leases: one grading run per GPU at a time (or N with sharing).

Which GPUs: GRADER_GPUS ("0,1", or GPU/MIG UUIDs; "" or "none" for none); when it is unset,
the devices `nvidia-smi -L` lists (the MIG instances of a GPU in MIG mode, else its UUID);
none when there is no nvidia-smi. UUIDs are preferred: they name the same device for the
host's Docker engine whatever order a container sees the GPUs in.

Leases are `fcntl.flock` locks on one file per (device, slot) in a lock directory
(GRADER_GPU_LOCK_DIR). GRADER_GPU_SHARING=N gives each device N slots, so N runs may share it.
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


class NoFreeGpu(SandboxError):
    """Every slot of every GPU stayed leased for the whole wait: try the run again later."""


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


@dataclass
class Lease:
    """One slot of one GPU, held until release() or until this process ends."""

    device: str
    slot: int
    fd: int | None

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
    """Leases on `devices`, `sharing` runs per device, shared by all processes using lock_dir."""

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
                    return Lease(device, slot, fd)
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
    GRADER_GPU_SHARING and GRADER_GPU_LOCK_DIR."""
    lock_dir = Path(env.get("GRADER_GPU_LOCK_DIR") or DEFAULT_LOCK_DIR)
    return GpuPool(discover_gpus(env), gpu_sharing(env), lock_dir)
