"""In-sandbox harness: run each hidden case in a forked child and stream its outputs.

Runs INSIDE the container as /job/harness.py (stdlib + numpy only at top level; no project
imports). Layout of /job, written by grader/bundle.py:

    task.json          case names in order, per-case timeouts, seed, nonce, device, preload
    submission/        the student's files (or the reference solution's)
    hidden/cases.py    the probes; hidden/data/ the inputs they may read

The parent imports the preload modules and cases.py once and NEVER imports submitted code.
Each case runs in a fresh child (its own process group) that imports the submission, calls
the case and sends back its outputs as .npy bytes over a pipe. The parent enforces the case's
time limit and writes one nonce-bound JSON line per event on stdout, flushed as it happens, so
finished cases survive a later crash or wall-clock kill. The student's prints go to stderr.
Scoring happens outside the sandbox (grader/protocol.py parses these lines).
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import importlib.util
import io
import json
import os
import random
import select
import signal
import struct
import sys
import time
import traceback
import zlib

import numpy as np

JOB = os.path.dirname(os.path.abspath(__file__))
SUBMISSION = os.path.join(JOB, "submission")
HIDDEN = os.path.join(JOB, "hidden")
WORK = os.path.join(JOB, "work")
ALLOWED_KINDS = "biuf"
MAX_MESSAGE = 500
INIT_NAMES = ("docker-init", "tini", "tini-static")  # pid 1 when the container has --init
MIB = 1024 * 1024
MIN_GPU_FRACTION = 1e-3  # set_per_process_memory_fraction refuses 0


class Context:
    """What a case function receives: seeded rng, the submission's modules, data, device."""

    def __init__(self, case: str, seed: int, device: str) -> None:
        self.case = case
        self.device = device
        self.rng = np.random.default_rng([seed, zlib.crc32(case.encode())])

    def module(self, name: str):
        """Import a submitted module (file name without .py)."""
        return importlib.import_module(name)

    def data(self, name: str) -> str:
        """Path of a file in hidden/data/."""
        path = os.path.normpath(os.path.join(HIDDEN, "data", name))
        if not path.startswith(os.path.join(HIDDEN, "data") + os.sep):
            raise ValueError(f"ctx.data: {name!r} is outside hidden/data")
        return path


class SubmissionFinder:
    """Resolve exactly the submitted module names to their files, ahead of sys.path."""

    def __init__(self, modules: list[str]) -> None:
        self.modules = set(modules)

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.modules:
            return None
        return importlib.util.spec_from_file_location(
            fullname, os.path.join(SUBMISSION, fullname + ".py")
        )


def emit(nonce: str, **record) -> None:
    """Write one record line on stdout (the worker reads these, nothing else)."""
    sys.stdout.write(json.dumps({"nonce": nonce, **record}) + "\n")
    sys.stdout.flush()


def main() -> None:
    """Preload, run every case in order, report each as it ends."""
    started = time.monotonic()
    with open(os.path.join(JOB, "task.json"), encoding="utf-8") as fh:
        task = json.load(fh)
    nonce = task["nonce"]
    for name in task["preload"]:
        importlib.import_module(name)
    cases = load_cases()
    os.makedirs(WORK, exist_ok=True)
    emit(nonce, event="ready", seconds=round(time.monotonic() - started, 4))
    for case in task["cases"]:
        emit(nonce, event="start", case=case["name"])
        record = run_case(case["name"], float(case["timeout_s"]), cases, task)
        emit(nonce, case=case["name"], **record)
        if task.get("sweep"):
            sweep()
    emit(nonce, event="done", seconds=round(time.monotonic() - started, 4))


def load_cases():
    """Import hidden/cases.py (trusted) under a name no submitted file can take."""
    spec = importlib.util.spec_from_file_location(
        "_dlgrader_cases", os.path.join(HIDDEN, "cases.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_case(name: str, timeout_s: float, cases, task: dict) -> dict:
    """Fork a child for one case and collect its record within timeout_s."""
    reply_r, reply_w = os.pipe()
    print_r, print_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.monotonic()
    try:
        pid = os.fork()
    except OSError as exc:
        for fd in (reply_r, reply_w, print_r, print_w):
            os.close(fd)
        return _record("error", f"could not start the case: {exc.strerror}", started)
    if pid == 0:
        os.close(reply_r)
        os.close(print_r)
        try:
            child_main(name, cases, task, reply_w, print_w)
        finally:
            os._exit(70)
    os.close(reply_w)
    os.close(print_w)
    with contextlib.suppress(OSError):  # the child does it too: no race with killpg
        os.setpgid(pid, pid)
    pipes = CasePipes(reply_r, print_r, int(task["max_case_bytes"]), int(task["print_cap"]))
    try:
        return collect(pid, pipes, started, timeout_s)
    finally:
        pipes.close()
        _kill_group(pid)


class CasePipes:
    """The parent's ends of one case's pipes: the framed reply, and what the case prints."""

    def __init__(self, reply_fd: int, print_fd: int, reply_cap: int, print_cap: int) -> None:
        self.reply_fd, self.print_fd = reply_fd, print_fd
        self.open = {reply_fd, print_fd}
        self.reply = bytearray()
        self.reply_cap = reply_cap
        self.print_cap = print_cap
        self.printed = 0

    @property
    def oversize(self) -> bool:
        return len(self.reply) > self.reply_cap + 8

    def pump(self, wait_s: float) -> bool:
        """Read what arrives within wait_s; True if anything (data or EOF) was read."""
        if not self.open:
            time.sleep(wait_s)
            return False
        ready, _, _ = select.select(sorted(self.open), [], [], wait_s)
        for fd in ready:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self.open.discard(fd)
            elif fd == self.reply_fd:
                self.reply += chunk
            else:
                self._forward(chunk)
        return bool(ready)

    def drain(self) -> None:
        """After the child exited: take what is already there (bounded: a grandchild may flood)."""
        for _ in range(64):
            if not self.pump(0) or self.oversize:
                return

    def _forward(self, chunk: bytes) -> None:
        """Prints go to the container's stderr (the log), up to print_cap bytes per case."""
        room = self.print_cap - self.printed
        if room > 0:
            _write_all(2, chunk[:room])
            if len(chunk) >= room:
                _write_all(2, b"\n[... more output from this case was dropped ...]\n")
        self.printed += len(chunk)

    def close(self) -> None:
        for fd in (self.reply_fd, self.print_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def collect(pid: int, pipes: CasePipes, started: float, timeout_s: float) -> dict:
    """Pump the child's pipes until it exits; kill it on timeout or an oversize reply."""
    deadline = started + timeout_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            _kill_group(pid)
            os.waitpid(pid, 0)
            return _record("timeout", f"ran past its time limit of {timeout_s:g} s", started)
        pipes.pump(min(left, 0.02))
        if pipes.oversize:
            _kill_group(pid)
            os.waitpid(pid, 0)
            cap_kb = pipes.reply_cap // 1024
            return _record("error", f"the outputs exceed {cap_kb} KB", started)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            pipes.drain()
            return _finish(status, bytes(pipes.reply), started)


def _finish(status: int, reply: bytes, started: float) -> dict:
    """Turn the child's exit status and reply into a record."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGKILL:
            return _record("killed", "the case's process was killed", started)
        return _record("error", f"the case's process died ({signal.Signals(sig).name})", started)
    code = os.WEXITSTATUS(status)
    size = struct.unpack(">Q", reply[:8])[0] if len(reply) >= 8 else -1
    if size != len(reply) - 8:
        msg = f"the case's process exited (code {code}) before returning its outputs"
        return _record("error", msg, started)
    try:
        payload = json.loads(reply[8:])
    except ValueError:
        return _record("error", "the case's reply could not be read", started)
    if not isinstance(payload, dict):
        return _record("error", "the case's reply could not be read", started)
    if "error" in payload:
        return _record("error", str(payload["error"])[:MAX_MESSAGE], started)
    return {**_record("ok", "", started), "outputs": payload.get("outputs", {})}


def _record(status: str, message: str, started: float) -> dict:
    return {"status": status, "message": message, "seconds": round(time.monotonic() - started, 4)}


def _kill_group(pid: int) -> None:
    """SIGKILL the case's process group and the child itself (it may have left the group)."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def child_main(name: str, cases, task: dict, write_fd: int, print_fd: int) -> None:
    """Run one case in this (forked) process and send its outputs; never returns."""
    me = os.getpid()
    os.setpgid(0, 0)
    _prefer_me_for_oom()
    _redirect_stdio(print_fd)
    os.chdir(WORK)
    sys.meta_path.insert(0, SubmissionFinder(task["modules"]))
    seed = int(task["seed"])
    ctx = Context(name, seed, _device(task["device"], int(task.get("gpu_memory_mb", 0))))
    _seed_globals(seed, name)
    try:
        payload = {"outputs": encode_outputs(getattr(cases, name)(ctx))}
    except BaseException as exc:  # SystemExit too: the student's code must not end the case
        if os.getpid() != me:  # a process the student forked: it must not answer
            os._exit(0)
        print_student_traceback(exc)
        payload = {"error": describe(exc)}
    if os.getpid() != me:
        os._exit(0)
    sys.stdout.flush()
    sys.stderr.flush()
    data = json.dumps(payload).encode()
    _write_all(write_fd, struct.pack(">Q", len(data)) + data)
    os._exit(0)


def _prefer_me_for_oom() -> None:
    """Make the OOM killer pick this case rather than the harness (raising is unprivileged)."""
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")
    except OSError:
        pass


def _redirect_stdio(print_fd: int) -> None:
    """Prints go to the parent (which forwards them to the log); stdin reads nothing."""
    os.dup2(print_fd, 1)
    os.dup2(print_fd, 2)
    os.close(print_fd)
    sys.stdout.reconfigure(line_buffering=True)  # prints survive a later SIGKILL
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)


def _device(wanted: str, gpu_memory_mb: int = 0) -> str:
    """'cuda' only when the run holds a GPU and torch sees it (checked per child, after fork);
    then the caching allocator is capped at gpu_memory_mb before the case allocates anything."""
    if wanted != "cuda":
        return "cpu"
    try:
        import torch
    except ImportError:
        return "cpu"
    if not torch.cuda.is_available():
        return "cpu"
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(gpu_memory_fraction(gpu_memory_mb, total), 0)
    return "cuda"


def gpu_memory_fraction(limit_mb: int, total_bytes: int) -> float:
    """The share of a device of total_bytes that limit_mb allows, in (0, 1]; 1.0 for no limit.

    A cap above the device's size is the whole device; past the cap, allocations raise
    torch.OutOfMemoryError, which the worker reports as "GPU out of memory (limit N MiB)".
    """
    if limit_mb <= 0 or total_bytes <= 0:
        return 1.0
    return min(1.0, max(MIN_GPU_FRACTION, limit_mb * MIB / total_bytes))


def _seed_globals(seed: int, case: str) -> None:
    """Seed the global generators so unseeded student code is deterministic per case."""
    state = np.random.SeedSequence([seed, zlib.crc32(case.encode())]).generate_state(1)[0]
    random.seed(int(state))
    np.random.seed(int(state))
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(int(state))


def encode_outputs(result) -> dict[str, str]:
    """A case's returned dict -> {name: base64 .npy}; refuse anything but numeric arrays."""
    if not isinstance(result, dict):
        raise TypeError(f"the case returned {type(result).__name__}, not a dict of arrays")
    encoded = {}
    for key, value in result.items():
        if not isinstance(key, str):
            raise TypeError(f"output name {key!r} is not a string")
        array = _to_array(key, value)
        buf = io.BytesIO()
        np.save(buf, array, allow_pickle=False)
        encoded[key] = base64.b64encode(buf.getvalue()).decode("ascii")
    return encoded


def _to_array(key: str, value) -> np.ndarray:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.fields is not None or array.dtype.kind not in ALLOWED_KINDS:
        raise TypeError(f"output {key!r} has dtype {array.dtype}: return numbers or numeric arrays")
    # ascontiguousarray promotes 0-d to 1-d; keep the exact shape the code returned
    return np.ascontiguousarray(array).reshape(array.shape)


def print_student_traceback(exc: BaseException) -> None:
    """The traceback, for the log, limited to frames in submitted files (not the probes)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _submitted(f.filename)]
    lines = ["Traceback (frames in your files):\n"] if frames else []
    lines += traceback.format_list(frames) + traceback.format_exception_only(exc)
    sys.stderr.write("".join(lines))
    sys.stderr.flush()


def _submitted(filename: str) -> bool:
    return os.path.dirname(filename) == SUBMISSION


def describe(exc: BaseException) -> str:
    """'Type: message (file.py line N)' naming the innermost frame in a submitted file."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 3] + "..."
    where = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if _submitted(frame.filename):
            where = f"{os.path.basename(frame.filename)} line {frame.lineno}"
    return f"{text} ({where})" if where else text


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def sweep() -> None:
    """Kill every process left in the container except init and this harness."""
    if not _inside_container():
        return
    for _ in range(100):
        strays = [pid for pid in _live_pids() if pid not in (1, os.getpid())]
        if not strays:
            return
        for pid in strays:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def _inside_container() -> bool:
    """Sweeping is only safe where pid 1 is the container's init (never on a host)."""
    try:
        with open("/proc/1/cmdline", "rb") as fh:
            argv0 = fh.read().split(b"\0")[0].decode()
    except OSError:
        return False
    return os.path.basename(argv0) in INIT_NAMES


def _live_pids() -> list[int]:
    """Pids of processes that are not zombies (zombies are init's to reap)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            pids.append(int(entry))
    return pids


if __name__ == "__main__":
    main()
