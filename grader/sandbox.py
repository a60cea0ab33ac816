"""Sandbox backends: run a bundle in a fresh, locked-down container and return its raw output.

`container_spec` is the one place that decides how a sandbox container is built. Input goes
in over stdin (no bind mounts: the worker may itself run in a container that talks to the
host's engine); output comes back over the attach stream, read frame by frame with a byte cap
and a wall-clock deadline. The container is removed whatever happens.
"""

from __future__ import annotations

import contextlib
import copy
import select
import socket
import time
from dataclasses import dataclass
from typing import Protocol

import docker
import docker.errors
import requests
from docker.types import DeviceRequest, LogConfig, Ulimit

from grader.job import Limits

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
DOCKER_ERRORS = (docker.errors.DockerException, requests.RequestException)

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
import runpy
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


class Sandbox(Protocol):
    """Runs a bundle (the bootstrap's stdin: grader.bundle.sandbox_stdin) under limits, in the
    image of `environment` (grader.package.ENVIRONMENTS)."""

    def run(
        self, bundle: bytes, limits: Limits, gpu_device: str | None, environment: str = "torch"
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
) -> dict:
    """Keyword arguments for `client.containers.create`: the whole sandbox policy in one place."""
    spec = {
        "image": image,
        **copy.deepcopy(LOCKDOWN),
        **resource_limits(limits),
        "environment": sandbox_environment(limits, gpu_device),
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


def sandbox_environment(limits: Limits, gpu_device: str | None) -> dict[str, str]:
    """A clean environment: nothing from the worker, thread pools sized to the CPU quota."""
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
        "PYTORCH_NVML_BASED_CUDA_CHECK": "1",  # is_available() must not poison fork
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
        self, bundle: bytes, limits: Limits, gpu_device: str | None, environment: str = "torch"
    ) -> SandboxOutput:
        """Run one bundle in a fresh container; it is removed whatever happens."""
        client = self.client()
        image = self.images[environment]
        spec = container_spec(limits, gpu_device, image, runtime=self.runtime, labels=self.labels)
        container = self._create(client, spec, image)
        try:
            return self._attach_and_run(client, container, bundle, limits)
        except DOCKER_ERRORS as exc:
            raise SandboxError(f"Docker failed during the run: {_one_line(exc)}") from exc
        finally:
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

    def _attach_and_run(self, client, container, bundle: bytes, limits: Limits) -> SandboxOutput:
        params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
        attached = client.api.attach_socket(container.id, params=params)
        sock: socket.socket = getattr(attached, "_sock", attached)
        try:
            container.start()
            started = time.monotonic()
            deadline = started + limits.wall_s
            _send(sock, bundle, deadline)
            reader = FrameReader(limits.output_kb * 1024, limits.log_kb * 1024)
            reader.read_until(sock, deadline)
            reader.finish()
            seconds = time.monotonic() - started
        finally:
            sock.close()
            attached.close()
        if reader.timed_out or reader.capped:
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
        )


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
    """Demultiplex Docker's attach stream (8-byte headers) with caps and a deadline."""

    def __init__(self, stdout_cap: int, log_tail: int) -> None:
        self.stdout = bytearray()
        self.log = bytearray()
        self.stdout_cap = stdout_cap
        self.log_tail = log_tail
        self.log_total = 0
        self.timed_out = False
        self.capped = False
        self._pending = bytearray()

    def read_until(self, sock: socket.socket, deadline: float) -> None:
        """Read until the stream ends, the deadline passes or a cap is hit."""
        sock.setblocking(False)
        while not self.capped:
            left = deadline - time.monotonic()
            if left <= 0:
                self.timed_out = True
                return
            ready, _, _ = select.select([sock], [], [], min(left, 1.0))
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
