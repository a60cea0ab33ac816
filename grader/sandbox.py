"""Sandbox backends: run a bundle in a fresh, locked-down container and return its raw output.

`container_spec` is the one place that decides how a sandbox container is built. Input goes
in over stdin (no bind mounts: the worker may itself run in a container that talks to the
host's engine); output comes back over the attach stream, read frame by frame with a byte cap
and a wall-clock deadline. The container is removed whatever happens.

Progress watchdog (optional: `run(..., progress=ProgressSchedule(...))`). The wall limit is the
backstop for a whole run; the watchdog ends a run as soon as the harness stops reporting. It
runs here, on the worker, outside the container, and parses nothing (authenticating records is
grader/protocol.py's business): it counts complete lines on the container's stdout, which only
the harness (pid 1) holds, one line per record. The harness writes, in order,

    line 0: ready    line 2i+1: start of case i    line 2i+2: record of case i    then: done

so the next line is due within: `startup_s` from the container's start for line 0 (bundle,
interpreter, preload, cases.py: trusted code only); after `ready` or a case's record, `grace_s`
(the next event follows at once); after the start of case i, its time limit plus `grace_s`
(the harness kills a case at its limit itself and reports within EXIT_GRACE_S = 2 s). A run
that misses its next line is killed and its output comes back with `stalled` set; what it
reported so far is kept. The engine decides what that means (grader/engine.py: a stall before
any case started is an infrastructure failure; during a case, that case timed out).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import re
import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import docker
import docker.errors
import requests
from docker.types import DeviceRequest, LogConfig, Ulimit

from grader.job import Limits

log = logging.getLogger(__name__)

DEFAULT_IMAGE = "dlgrader-sandbox:cpu"  # the "torch" environment: NumPy and PyTorch
# The "numpy" environment: the same interpreter and NumPy, nothing else installed, so a ban on
# torch (scipy, sklearn, ...) holds by absence, whatever route the code takes to import it.
NUMPY_IMAGE = "dlgrader-sandbox:numpy"
SANDBOX_LABEL = "dlgrader.sandbox"
# On sandboxes that hold a GPU: the lease (grader.gpus.Lease.key) they run under.
GPU_LEASE_LABEL = "dlgrader.gpu_lease"
BUILD_HINT = "build it with grader/images/build_local.sh (or grader/images/Dockerfile.cpu)"
LOG_FLOOD_BYTES = 64 * 1024 * 1024  # stderr past this is a flood: the run is stopped
TMP_MB = 16
NOFILE = 1024
STOP_GRACE_S = 10.0  # for docker calls after the run (wait, inspect, remove)
# Progress watchdog: until the harness's first line (start-up: `import torch` on a loaded
# 2-core worker takes well under this), and the slack past a case's own limit (the harness
# kills an overrunning case and reports it within EXIT_GRACE_S = 2 s).
PROGRESS_STARTUP_S = 60.0
PROGRESS_GRACE_S = 5.0
READ_SLICE_S = 1.0  # longest single wait on the attach socket
DOCKER_ERRORS = (docker.errors.DockerException, requests.RequestException)
MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")

# Runs as `python3 -I -S -c BOOTSTRAP`, as the container's pid 1 (no --init: the harness is
# the init, so no other process holds the container's stdout and none can signal it). Isolated
# mode ignores PYTHON* variables, the user site and the current directory (so bytecode writing
# is switched off here, not by PYTHONDONTWRITEBYTECODE); -S skips .pth processing. Only the
# image's own site-packages directories are added, so no file in /job can shadow an installed
# module. Stdin carries an 8-byte length, the bundle (tar), then the record key: the bundle is
# read with exact-length reads, so the key is still unread when the harness starts (it reads
# it only after forking the process that will run the cases).
BOOTSTRAP = """\
import io, os, site, sys, tarfile
sys.dont_write_bytecode = True
sys.path += [p for p in site.getsitepackages() if os.path.isdir(p)]
# what the harness imports, loaded while a warm container waits (standard library only)
import base64, ctypes, faulthandler, fcntl, hashlib, hmac, importlib.machinery, importlib.util
import json, random, re, resource, runpy, select, signal, socket, struct, traceback, zlib
for name in filter(None, os.environ.get("DLGRADER_PRELOAD", "").split(",")):
    try:
        __import__(name)  # while it waits for the bundle: the harness finds it loaded
    except Exception:
        pass  # the harness's own import reports it
def read_exact(n):
    parts = []
    while n > 0:
        part = os.read(0, min(n, 1 << 20))
        if not part:
            break
        parts.append(part)
        n -= len(part)
    return b"".join(parts)
size = int.from_bytes(read_exact(8), "big")
with tarfile.open(fileobj=io.BytesIO(read_exact(size)), mode="r:") as bundle:
    bundle.extractall("/job", filter="data")
sys.argv = ["/job/harness.py"]
runpy.run_path("/job/harness.py", run_name="__main__")
"""


class SandboxError(RuntimeError):
    """Infrastructure failure (Docker unreachable, image missing, harness did not start).

    The message is one line that says how to fix it. Never a reason to score a student 0:
    the Celery task retries or marks the run failed.
    """


@dataclass
class SandboxOutput:
    """What one sandbox run produced, raw: scoring and parsing happen elsewhere."""

    stdout: bytes  # harness records (capped at limits.output_kb)
    log: bytes  # tail of stderr: the student's prints and tracebacks (limits.log_kb)
    exit_code: int | None
    oom_killed: bool  # the container's memory cgroup hit its limit
    timed_out: bool  # killed at limits.wall_s
    output_capped: bool  # killed because stdout or stderr went past its cap
    seconds: float  # from container start to the end of its output
    stalled: bool = False  # killed by the progress watchdog: the next record line was overdue
    acquire_s: float = 0.0  # getting a started container: create + start, or a warm one's take


@dataclass(frozen=True)
class ProgressSchedule:
    """When the harness's next record line is due (see the module docstring): the time limits
    of the run's cases, in the order the harness runs them."""

    case_timeouts: tuple[float, ...]
    startup_s: float = PROGRESS_STARTUP_S
    grace_s: float = PROGRESS_GRACE_S
    # Told the index of each case as the harness starts it (for "now running" on a live page;
    # the line count comes from the harness's own stdout, which no case can write to).
    on_case: Callable[[int], None] | None = field(default=None, compare=False, repr=False)

    def allowance(self, lines_seen: int) -> float:
        """Seconds the harness has for its next line, counted from its latest line (from the
        container's start while `lines_seen` is 0)."""
        if lines_seen <= 0:
            return self.startup_s
        latest = lines_seen - 1  # 0: ready; 2i+1: start of case i; 2i+2: record of case i
        case = (latest - 1) // 2
        if latest % 2 == 1 and case < len(self.case_timeouts):
            return self.case_timeouts[case] + self.grace_s
        return self.grace_s


class ProgressWatch:
    """The deadline for the next record line of one run, moved on as complete lines arrive."""

    def __init__(self, schedule: ProgressSchedule, started: float) -> None:
        self.schedule = schedule
        self.lines = 0
        self.deadline = started + schedule.allowance(0)

    def saw_lines(self, count: int, now: float) -> None:
        """`count` more complete lines arrived at `now`."""
        if count > 0:
            self.lines += count
            self.deadline = now + self.schedule.allowance(self.lines)
            latest = self.lines - 1
            if latest % 2 == 1 and self.schedule.on_case is not None:
                try:
                    self.schedule.on_case((latest - 1) // 2)
                except Exception:  # an observer never stops a run
                    log.exception("the on_case observer raised")


class Sandbox(Protocol):
    """Runs a bundle (the bootstrap's stdin: grader.bundle.sandbox_stdin) under limits, in the
    image of `environment` (grader.package.ENVIRONMENTS). `progress`, when given, turns on the
    progress watchdog; implementations without it (test doubles) may leave the parameter out:
    the engine passes it only to a `run` that accepts it."""

    def run(
        self,
        bundle: bytes,
        limits: Limits,
        gpu_device: str | None,
        environment: str = "torch",
        progress: ProgressSchedule | None = None,
        preload: tuple[str, ...] = (),
    ) -> SandboxOutput: ...


# The parts of the policy that never vary: isolation, stdin transport, no logs on the host.
LOCKDOWN = {
    "command": ["python3", "-I", "-S", "-c", BOOTSTRAP],
    "stdin_open": True,
    "detach": False,  # with stdin_open: StdinOnce, so stdin EOF does not end the output
    "tty": False,
    "use_config_proxy": False,  # no proxy variables from the worker's docker config
    "working_dir": "/job",
    "user": "65534:65534",
    "hostname": "sandbox",
    "network_mode": "none",
    "read_only": True,
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
    "init": False,  # the harness is pid 1: it reaps orphans, and init ignores in-container signals
    "log_config": LogConfig(type="none"),  # a flood never reaches the host's disk
}


def container_spec(
    limits: Limits,
    gpu_device: str | None,
    image: str = DEFAULT_IMAGE,
    *,
    runtime: str | None = None,
    labels: dict[str, str] | None = None,
    preload: tuple[str, ...] = (),
) -> dict:
    """Keyword arguments for `client.containers.create`: the whole sandbox policy in one place.
    `preload`: installed modules the bootstrap imports before it reads the bundle (a warm
    container has them loaded while it waits; grader.warm)."""
    spec = {
        "image": image,
        **copy.deepcopy(LOCKDOWN),
        **resource_limits(limits),
        "environment": sandbox_environment(limits, gpu_device, preload),
        "labels": {SANDBOX_LABEL: "1", **(labels or {})},
    }
    if gpu_device is not None:
        spec["device_requests"] = [DeviceRequest(device_ids=[gpu_device], capabilities=[["gpu"]])]
    if runtime is not None:
        spec["runtime"] = runtime
    return spec


def resource_limits(limits: Limits) -> dict:
    """Memory (swap equal: none), CPU quota, pids, tmpfs sizes and rlimits from Limits."""
    memory = f"{limits.memory_mb}m"
    file_bytes = limits.tmpfs_mb << 20
    return {
        "pids_limit": limits.pids,
        "mem_limit": memory,
        "memswap_limit": memory,
        "nano_cpus": int(limits.cpus * 1e9),
        "shm_size": f"{TMP_MB}m",
        "tmpfs": {
            "/job": f"rw,nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777",
            "/tmp": f"rw,nosuid,nodev,noexec,size={TMP_MB}m,mode=1777",
        },
        "ulimits": [
            Ulimit(name="nofile", soft=NOFILE, hard=NOFILE),
            Ulimit(name="core", soft=0, hard=0),
            Ulimit(name="fsize", soft=file_bytes, hard=file_bytes),
        ],
    }


def sandbox_environment(
    limits: Limits, gpu_device: str | None, preload: tuple[str, ...] = ()
) -> dict[str, str]:
    """A clean environment: nothing from the worker, thread pools sized to the CPU quota,
    and the preload modules' names (dotted names only) for the bootstrap."""
    threads = str(max(1, int(limits.cpus)))
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/job/work",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "NUMEXPR_NUM_THREADS": threads,
        "MPLCONFIGDIR": "/tmp",
        # glibc's malloc: arrays under 16 MiB from the heap, and up to 64 MiB of freed heap kept
        # rather than returned to the kernel. Each case is a fresh process, so the adaptive
        # defaults never warm up; with them, a training case maps, faults in (charged to the
        # container's memory cgroup) and unmaps its temporaries on every step: ~15% of rnn's
        # train_adding. Memory kept this way still counts against the container's limit.
        "MALLOC_MMAP_THRESHOLD_": str(16 << 20),
        "MALLOC_TRIM_THRESHOLD_": str(64 << 20),
        "PYTORCH_NVML_BASED_CUDA_CHECK": "1",  # is_available() must not poison fork
        "DLGRADER_PRELOAD": ",".join(m for m in preload if MODULE_NAME.fullmatch(m)),
    }
    # The runtime exposes the requested GPU only; inside, it is device 0. "void" also masks
    # the NVIDIA_VISIBLE_DEVICES=all that CUDA base images set, for CPU runs.
    env["NVIDIA_VISIBLE_DEVICES"] = gpu_device if gpu_device is not None else "void"
    env["CUDA_VISIBLE_DEVICES"] = "0" if gpu_device is not None else ""
    return env


class DockerSandbox:
    """Run bundles in containers of `image` on the Docker engine `client` talks to."""

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        client: docker.DockerClient | None = None,
        runtime: str | None = None,
        labels: dict[str, str] | None = None,
        numpy_image: str = NUMPY_IMAGE,
    ) -> None:
        self.image = image
        self.images = {"torch": image, "numpy": numpy_image}
        self.runtime = runtime
        self.labels = dict(labels or {})
        self._client = client

    def client(self) -> docker.DockerClient:
        """The Docker client, connected on first use (constructing a sandbox connects nothing)."""
        if self._client is None:
            try:
                self._client = docker.from_env(timeout=60)
            except docker.errors.DockerException as exc:
                raise SandboxError(
                    f"cannot reach Docker ({_one_line(exc)}): start the engine or set DOCKER_HOST"
                ) from exc
        return self._client

    def close(self) -> None:
        """Close the Docker client's connections (a later run reconnects)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def check(self) -> None:
        """Raise SandboxError unless the engine answers and the image exists."""
        client = self.client()
        try:
            client.ping()
            for image in self.images.values():
                try:
                    client.images.get(image)
                except docker.errors.ImageNotFound as exc:
                    raise SandboxError(f"sandbox image {image} is missing: {BUILD_HINT}") from exc
        except DOCKER_ERRORS as exc:
            raise SandboxError(f"Docker does not answer ({_one_line(exc)})") from exc

    def run(
        self,
        bundle: bytes,
        limits: Limits,
        gpu_device: str | None,
        environment: str = "torch",
        progress: ProgressSchedule | None = None,
        preload: tuple[str, ...] = (),
    ) -> SandboxOutput:
        """Run one bundle in a fresh container; it is removed whatever happens. With
        `progress`, a run whose harness misses its next record line is ended early."""
        client = self.client()
        spec, image = self.spec(limits, gpu_device, environment, preload)
        try:
            started = self.acquire(client, spec, image)
        except DOCKER_ERRORS as exc:
            raise SandboxError(f"Docker could not start the sandbox: {_one_line(exc)}") from exc
        try:
            return self._drive(client, started, bundle, limits, progress)
        except DOCKER_ERRORS as exc:
            raise SandboxError(f"Docker failed during the run: {_one_line(exc)}") from exc
        finally:
            self.dispose(started.container)  # _drive closed its stream

    def spec(
        self,
        limits: Limits,
        gpu_device: str | None,
        environment: str,
        preload: tuple[str, ...] = (),
    ) -> tuple[dict, str]:
        """The container spec of a run of this kind, and its image."""
        image = self.images[environment]
        spec = container_spec(
            limits, gpu_device, image, runtime=self.runtime, labels=self.labels, preload=preload
        )
        return spec, image

    def acquire(self, client: docker.DockerClient, spec: dict, image: str) -> Started:
        """A started container of `spec`, attached, its bootstrap waiting for the bundle on
        stdin (here: created now; grader.warm takes one made ahead of time)."""
        container = self._create(client, spec, image)
        try:
            return start_attached(client, container)
        except BaseException:
            self.dispose(container)
            raise

    def dispose(self, container) -> None:
        """Remove a used (or failed) container, whatever state it is in."""
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except DOCKER_ERRORS as exc:
            raise SandboxError(f"could not remove container: {_one_line(exc)}") from exc

    def remove_leftovers(self, gpu_lease: str) -> int:
        """Remove sandboxes still running under the GPU lease `gpu_lease`; how many there were.

        Call it right after taking the lease: the lease's flock is free only when no live
        process holds it, so such a container belongs to a worker that died mid-run and would
        otherwise keep using the GPU until its own wall-clock limit.
        """
        client = self.client()
        label = f"{GPU_LEASE_LABEL}={gpu_lease}"
        try:
            leftovers = client.containers.list(all=True, filters={"label": label}, sparse=True)
            for container in leftovers:
                with contextlib.suppress(docker.errors.NotFound):  # gone meanwhile
                    container.remove(force=True)
        except DOCKER_ERRORS as exc:
            raise SandboxError(f"could not remove leftover sandboxes: {_one_line(exc)}") from exc
        return len(leftovers)

    def _create(self, client: docker.DockerClient, spec: dict, image: str):
        try:
            return client.containers.create(**spec)
        except docker.errors.ImageNotFound as exc:
            raise SandboxError(f"sandbox image {image} is missing: {BUILD_HINT}") from exc
        except DOCKER_ERRORS as exc:
            raise SandboxError(
                f"cannot create a sandbox container ({_one_line(exc)}): "
                "check that the Docker engine runs and DOCKER_HOST points at it"
            ) from exc

    def _drive(
        self,
        client,
        run: Started,
        bundle: bytes,
        limits: Limits,
        progress: ProgressSchedule | None,
    ) -> SandboxOutput:
        """Send the bundle to a started container and read it to the end, within the limits
        (counted from now: a container made ahead of time has used none of them)."""
        container = run.container
        try:
            started = time.monotonic()
            deadline = started + limits.wall_s
            watch = ProgressWatch(progress, started) if progress is not None else None
            _send(run.sock, bundle, min(deadline, watch.deadline) if watch else deadline)
            reader = FrameReader(limits.output_kb * 1024, limits.log_kb * 1024, watch)
            reader.read_until(run.sock, deadline)
            reader.finish()
            seconds = time.monotonic() - started
        finally:
            run.close()
        if reader.timed_out or reader.capped or reader.stalled:
            _kill(container)
        exit_code = container.wait(timeout=STOP_GRACE_S).get("StatusCode")
        state = client.api.inspect_container(container.id)["State"]
        return SandboxOutput(
            stdout=bytes(reader.stdout),
            log=bytes(reader.log),
            exit_code=exit_code,
            oom_killed=bool(state.get("OOMKilled")),
            timed_out=reader.timed_out,
            output_capped=reader.capped,
            seconds=seconds,
            stalled=reader.stalled,
            acquire_s=run.acquire_s,
        )


@dataclass
class Started:
    """A started container with its attach socket (stdin, stdout and stderr)."""

    container: Any
    attached: Any
    sock: socket.socket
    acquire_s: float = 0.0  # how long the run waited for it (create + attach + start, or a take)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(OSError):
            self.attached.close()


def start_attached(client: docker.DockerClient, container) -> Started:
    """Attach to a created container's stdio, then start it (attached first: nothing it
    writes is lost). Its bootstrap then waits for the bundle on stdin."""
    began = time.monotonic()
    params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
    attached = client.api.attach_socket(container.id, params=params)
    sock: socket.socket = getattr(attached, "_sock", attached)
    try:
        container.start()
    except BaseException:
        with contextlib.suppress(OSError):
            sock.close()
            attached.close()
        raise
    return Started(container, attached, sock, time.monotonic() - began)


def _send(sock: socket.socket, data: bytes, deadline: float) -> None:
    """Write the bundle to the container's stdin and half-close it."""
    sock.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
    except (TimeoutError, BrokenPipeError, ConnectionResetError):
        pass  # the container ended or hung before reading: its output says what happened
    finally:
        sock.settimeout(None)


class FrameReader:
    """Demultiplex Docker's attach stream (8-byte headers) with caps, a deadline and, with a
    ProgressWatch, a deadline for the next complete stdout line."""

    def __init__(self, stdout_cap: int, log_tail: int, watch: ProgressWatch | None = None) -> None:
        self.stdout = bytearray()
        self.log = bytearray()
        self.stdout_cap = stdout_cap
        self.log_tail = log_tail
        self.log_total = 0
        self.timed_out = False
        self.capped = False
        self.stalled = False
        self.watch = watch
        self._pending = bytearray()

    def read_until(self, sock: socket.socket, deadline: float) -> None:
        """Read until the stream ends, the deadline passes, a cap is hit or the next line is
        overdue (with a watch)."""
        sock.setblocking(False)
        while not self.capped:
            now = time.monotonic()
            if now >= deadline:
                self.timed_out = True
                return
            if self.watch is not None and now >= self.watch.deadline:
                self.stalled = True
                return
            due = deadline if self.watch is None else min(deadline, self.watch.deadline)
            ready, _, _ = select.select([sock], [], [], min(due - now, READ_SLICE_S))
            if not ready:
                continue
            try:
                chunk = sock.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                continue
            except (ConnectionResetError, OSError):
                return
            if not chunk:
                return
            self.feed(chunk)

    def feed(self, chunk: bytes) -> None:
        """Consume raw bytes; complete frames go to stdout or the log tail."""
        self._pending += chunk
        while len(self._pending) >= 8:
            size = int.from_bytes(self._pending[4:8], "big")
            if len(self._pending) < 8 + size:
                return
            stream = self._pending[0]
            payload = bytes(self._pending[8 : 8 + size])
            del self._pending[: 8 + size]
            self._route(stream, payload)

    def _route(self, stream: int, payload: bytes) -> None:
        if stream == 1:
            if self.watch is not None:
                self.watch.saw_lines(payload.count(b"\n"), time.monotonic())
            self.stdout += payload
            if len(self.stdout) > self.stdout_cap:
                del self.stdout[self.stdout_cap :]
                self.capped = True
        else:
            self.log_total += len(payload)
            self.log += payload
            if len(self.log) > 2 * self.log_tail:
                del self.log[: len(self.log) - self.log_tail]
            self.capped = self.capped or self.log_total > LOG_FLOOD_BYTES

    def finish(self) -> None:
        """Trim the log to its tail."""
        if len(self.log) > self.log_tail:
            del self.log[: len(self.log) - self.log_tail]


def _kill(container) -> None:
    with contextlib.suppress(docker.errors.APIError):  # it may have stopped already
        container.kill()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
