"""In-sandbox harness: run each hidden case in a fresh process and report authenticated records.

Runs INSIDE the container as /job/harness.py, as the container's pid 1 (stdlib + numpy only at
top level; no project imports). /job, written by the sandbox bootstrap from grader/bundle.py:

    task.json          case names in order, per-case timeouts, seed, device, preload (no secret)
    submission/        the student's files (or the reference solution's)
    hidden/cases.py    the probes; hidden/data/ the inputs they may read (incl. run/ data)

Three kinds of process, and who can reach whom (threat model: DESIGN.md, "Integrity"):

- The supervisor (this process, pid 1). It alone holds the container's stdout and stderr and
  the record key, which it reads from stdin only AFTER the zygote exists. It makes itself
  non-dumpable, so no process of the same uid can open /proc/1/fd/*, read /proc/1/mem or
  ptrace it; as the pid namespace's init it ignores every signal sent from inside the
  container (SIGKILL and SIGSTOP included), so no case can stop or kill it.
- The zygote, forked before the key exists: it imports the preload modules and cases.py once,
  never submitted code (it compiles the submitted files at the first case, which runs none of
  them, so children inherit code objects), and forks one child per case on the supervisor's
  request. Its stdio is /dev/null; it is non-dumpable too.
- One case child per case, forked from the zygote: it holds only its reply pipe, its print
  pipe and its stack pipe (every other descriptor is closed before submitted code runs),
  imports the submission, calls the case and writes the outputs as .npy bytes on the reply
  pipe. Whatever it does, it can reach its own pipes only; the supervisor tags what arrives
  with the case's name. Shortly before the case's limit, the supervisor sends the child
  STACK_SIGNAL, on which faulthandler writes the child's stack on the stack pipe; on a
  time-out the supervisor names the frames in submitted files ("where the code was"). It is
  feedback only: a child that writes there itself, or ignores the signal, misleads nobody but
  its own student, and hidden files' frames are never named. (A signal, not faulthandler's
  timer: its watchdog thread would make every case process multi-threaded, and glibc's malloc
  then locks on every call: about 20% on an allocation-heavy training case.)

The supervisor writes one line per event on stdout, `<json> <hmac-sha256 hex>`, with a
sequence number inside the JSON; grader/protocol.py verifies both. Scoring happens outside.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import faulthandler
import fcntl
import hashlib
import hmac
import importlib
import importlib.machinery
import importlib.util
import io
import json
import os
import random
import re
import resource
import select
import signal
import socket
import struct
import sys
import time
import traceback
import zlib

import numpy as np

# numpy imports numpy.random lazily, on first use: ~15 ms in EVERY case child (each a fresh
# fork) unless it is loaded here, once, before the zygote forks.
import numpy.random  # noqa: F401

JOB = os.path.dirname(os.path.abspath(__file__))
SUBMISSION = os.path.join(JOB, "submission")
HIDDEN = os.path.join(JOB, "hidden")
WORK = os.path.join(JOB, "work")
ALLOWED_KINDS = "biuf"
MAX_MESSAGE = 500
KEY_HEX_CHARS = 64  # the record key arrives on stdin as 64 hex digits and a newline
MIB = 1024 * 1024
MIN_GPU_FRACTION = 1e-3  # set_per_process_memory_fraction refuses 0
GPU_OOM_WORDS = ("CUDA out of memory", "CUDA error: out of memory")
PR_SET_DUMPABLE = 4
REPLY_FD = 3  # a case child's reply pipe
STACK_FD = 4  # a case child's stack pipe: faulthandler writes its stack there before the limit
STACK_EARLY_S = 0.3  # how long before its limit a case's stack is taken
STACK_SIGNAL = signal.SIGUSR2  # blocked in the zygote; a case child unblocks it once it can dump
STACK_CAP = 16 * 1024  # bytes of stack dump the supervisor reads
STACK_FRAMES = 4  # frames in submitted files named in a time-out's message
MAX_FD = 1024  # the sandbox's nofile limit
EXIT_GRACE_S = 2.0  # after a kill: how long the zygote may take to report the exit
DRAIN_ROUNDS = 64  # reads after a case ended (a grandchild may keep a pipe open and flood)


# ---------------------------------------------------------------- what a case sees


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
        where = os.path.join(SUBMISSION, fullname + ".py")
        return importlib.util.spec_from_file_location(
            fullname, where, loader=SubmissionLoader(fullname, where)
        )


class SubmissionLoader(importlib.machinery.SourceFileLoader):
    """Takes the code object the zygote compiled (compile_submission) while the file still
    holds the source it was compiled from; compiles it itself otherwise."""

    def get_code(self, fullname):
        source = self.get_data(self.path)
        known = COMPILED.get(fullname)
        if known is not None and known[0] == hashlib.sha256(source).digest():
            return known[1]
        return self.source_to_code(source, self.path)


# ---------------------------------------------------------------- the supervisor (pid 1)


class Records:
    """Authenticated record lines on stdout: JSON with a sequence number, then its HMAC."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.seq = 0

    def emit(self, **record) -> None:
        payload = json.dumps({"seq": self.seq, **record}, separators=(",", ":")).encode()
        mac = hmac.new(self.key, payload, hashlib.sha256).hexdigest().encode()
        _write_all(1, payload + b" " + mac + b"\n")
        self.seq += 1


def main() -> None:
    """Start the zygote, take the key, run every case in order, report each as it ends."""
    started = time.monotonic()
    with open(os.path.join(JOB, "task.json"), encoding="utf-8") as fh:
        task = json.load(fh)
    _harden_supervisor()
    os.makedirs(WORK, exist_ok=True)
    zygote = Zygote.start(task)
    records = Records(_read_key())
    ready = zygote.wait_ready()
    if ready is not None:  # trusted code (preload, cases.py) failed: not the student's doing
        sys.stderr.write(ready)
        sys.stderr.flush()
        return
    records.emit(event="ready", seconds=round(time.monotonic() - started, 4))
    for case in task["cases"]:
        records.emit(event="start", case=case["name"])
        record = run_case(zygote, case["name"], float(case["timeout_s"]), task)
        records.emit(case=case["name"], **record)
        sweep(zygote.pid)
    zygote.stop()
    records.emit(event="done", seconds=round(time.monotonic() - started, 4), **cpu_spent(zygote))


def cpu_spent(zygote: Zygote) -> dict:
    """CPU seconds (user + system) spent in this container so far: `cpu_s` all of it (this
    process from the interpreter's start, bootstrap and preload included, plus the zygote and
    every case child, all reaped by now), `case_cpu_s` the case children's share."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return {"cpu_s": round(total, 4), "case_cpu_s": round(zygote.case_cpu_s, 4)}


def _harden_supervisor() -> None:
    """Non-dumpable (no /proc/1/fd, mem or ptrace for anyone else); default signal dispositions,
    which an init ignores for signals sent from inside its namespace; stdin kept for the key."""
    _set_dumpable(False)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_DFL)


def _set_dumpable(flag: bool) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, int(flag), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


def _read_key() -> bytes:
    """The record key from stdin (after the bundle); stdin is /dev/null afterwards."""
    raw = b""
    while len(raw) < KEY_HEX_CHARS + 1:
        chunk = os.read(0, KEY_HEX_CHARS + 1 - len(raw))
        if not chunk:
            break
        raw += chunk
    _null_stdin()
    return bytes.fromhex(raw[:KEY_HEX_CHARS].decode("ascii"))


def _null_stdin() -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)


class Zygote:
    """The supervisor's handle on the zygote: a SOCK_SEQPACKET pair and the zygote's pid."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock
        self.alive = True
        self.case_cpu_s = 0.0  # CPU seconds of the case children, as the zygote reaped them

    @classmethod
    def start(cls, task: dict) -> Zygote:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            ours.close()
            try:
                zygote_main(theirs, task)
            finally:
                os._exit(70)
        theirs.close()
        return cls(pid, ours)

    def wait_ready(self) -> str | None:
        """None once the zygote has imported everything, else the reason it could not."""
        message = self.receive(None)
        if message is None:
            return "the case runner exited during start-up\n"
        return message.get("fatal")

    def send(self, message: dict, fds: list[int]) -> bool:
        try:
            socket.send_fds(self.sock, [json.dumps(message).encode()], fds)
        except OSError:
            self.alive = False
        return self.alive

    def receive(self, timeout_s: float | None) -> dict | None:
        """The zygote's next message; None on timeout or once it is gone."""
        if not self.alive:
            return None
        ready, _, _ = select.select([self.sock], [], [], timeout_s)
        if not ready:
            return None
        try:
            data = self.sock.recv(4096)
        except OSError:
            data = b""
        if not data:
            self.alive = False
            return None
        return json.loads(data)

    def kill(self) -> None:
        self.alive = False
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def stop(self) -> None:
        self.sock.close()
        self.kill()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def run_case(zygote: Zygote, name: str, timeout_s: float, task: dict) -> dict:
    """Have the zygote fork a child for one case; collect its record within timeout_s."""
    started = time.monotonic()
    if not zygote.alive:
        return _record("error", "not run: an earlier case stopped the case runner", started)
    reply_r, reply_w = os.pipe()
    print_r, print_w = os.pipe()
    stack_r, stack_w = os.pipe()
    sent = zygote.send({"case": name}, [reply_w, print_w, stack_w])
    for fd in (reply_w, print_w, stack_w):
        os.close(fd)
    pipes = CasePipes(reply_r, print_r, int(task["max_case_bytes"]), int(task["print_cap"]))
    pipes.stack_fd = stack_r
    try:
        if not sent:
            return _record("error", "not run: an earlier case stopped the case runner", started)
        return collect(zygote, pipes, started, timeout_s)
    finally:
        pipes.close()


class CasePipes:
    """The supervisor's ends of one case's pipes: the framed reply, and what the case prints."""

    def __init__(self, reply_fd: int, print_fd: int, reply_cap: int, print_cap: int) -> None:
        self.reply_fd, self.print_fd = reply_fd, print_fd
        self.open = {reply_fd, print_fd}
        self.reply = bytearray()
        self.printed = bytearray()
        self.reply_cap = reply_cap
        self.print_cap = print_cap
        self.print_total = 0
        self.stack_fd: int | None = None

    @property
    def oversize(self) -> bool:
        return len(self.reply) > self.reply_cap + 8

    def read(self, fds: list[int]) -> None:
        for fd in fds:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self.open.discard(fd)
            elif fd == self.reply_fd:
                self.reply += chunk
            else:
                room = self.print_cap - len(self.printed)
                self.printed += chunk[: max(room, 0)]
                self.print_total += len(chunk)

    def drain(self) -> None:
        """After the child exited: take what is already there (bounded)."""
        for _ in range(DRAIN_ROUNDS):
            if not self.open or self.oversize:
                return
            ready, _, _ = select.select(sorted(self.open), [], [], 0)
            if not ready:
                return
            self.read(ready)

    def output(self) -> str:
        text = self.printed.decode("utf-8", errors="replace")
        if self.print_total > len(self.printed):
            text += "\n[... more output from this case was dropped ...]\n"
        return text

    def stack(self) -> str:
        """What is already on the stack pipe (bounded; never waits)."""
        data = bytearray()
        while self.stack_fd is not None and len(data) < STACK_CAP:
            ready, _, _ = select.select([self.stack_fd], [], [], 0)
            chunk = os.read(self.stack_fd, STACK_CAP - len(data)) if ready else b""
            if not chunk:
                break
            data += chunk
        return data.decode("utf-8", errors="replace")

    def close(self) -> None:
        for fd in (self.reply_fd, self.print_fd, self.stack_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)


def collect(zygote: Zygote, pipes: CasePipes, started: float, timeout_s: float) -> dict:
    """Wait (no polling) for the child's pipes and the zygote's reports until the child exits;
    take its stack shortly before the limit; kill it on timeout or an oversize reply."""
    deadline = started + timeout_s
    stack_at: float | None = started + max(timeout_s - STACK_EARLY_S, timeout_s / 2)
    pid: int | None = None
    while True:
        now = time.monotonic()
        if stack_at is not None and pid is not None and now >= stack_at:
            stack_at = None
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, STACK_SIGNAL)
        left = deadline - now
        if left <= 0:
            where = where_it_was(pipes.stack())
            _kill_and_reap(zygote, pid)
            why = f"ran past its time limit of {timeout_s:g} s"
            return {**_with_output(_record("timeout", why, started), pipes), "where": where}
        watch = [zygote.sock, *sorted(pipes.open)]
        wake = left if stack_at is None or pid is None else max(0.0, min(left, stack_at - now))
        ready, _, _ = select.select(watch, [], [], wake)
        pipes.read([fd for fd in ready if fd != zygote.sock])
        if pipes.oversize:
            _kill_and_reap(zygote, pid)
            cap_kb = pipes.reply_cap // 1024
            return _with_output(_record("error", f"the outputs exceed {cap_kb} KB", started), pipes)
        if zygote.sock in ready:
            message = zygote.receive(0)
            if message is None:
                _kill_group(pid)
                why = "the case's code stopped the case runner"
                return _with_output(_record("error", why, started), pipes)
            pid = message.get("pid", pid)
            if "exit" in message:
                zygote.case_cpu_s += float(message.get("cpu", 0.0))
                pipes.drain()
                record = _finish(message["exit"], bytes(pipes.reply), started)
                return _with_output(record, pipes)


def _kill_and_reap(zygote: Zygote, pid: int | None) -> None:
    """SIGKILL the case and wait for the zygote to report its exit; a zygote that does not
    (stopped or gone) is killed: no later case can trust it."""
    _kill_group(pid)
    deadline = time.monotonic() + EXIT_GRACE_S
    while (left := deadline - time.monotonic()) > 0:
        message = zygote.receive(left)
        if message is None:
            break
        if "exit" in message:
            return
    zygote.kill()


def _with_output(record: dict, pipes: CasePipes) -> dict:
    return {**record, "output": pipes.output()}


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
        return _record("raised", str(payload["error"])[:MAX_MESSAGE], started)
    return {**_record("ok", "", started), "outputs": payload.get("outputs", {})}


def _record(status: str, message: str, started: float) -> dict:
    return {"status": status, "message": message, "seconds": round(time.monotonic() - started, 4)}


def _kill_group(pid: int | None) -> None:
    """SIGKILL the case's process group and the child itself (it may have left the group)."""
    if pid is None:
        return
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- the zygote


def zygote_main(sock: socket.socket, task: dict) -> None:
    """Import the preload modules and cases.py once; fork one child per request; never
    returns. Runs no submitted code itself."""
    _null_stdin()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    # Blocked here and so in every child from the fork on: a stack request that comes before a
    # child can dump waits instead of ending it (SIGUSR2's default action); and sent to the
    # zygote by a case's code, it does nothing.
    signal.pthread_sigmask(signal.SIG_BLOCK, [STACK_SIGNAL])
    try:
        for name in task["preload"]:
            importlib.import_module(name)
        cases = load_cases()
    except BaseException:
        sock.send(json.dumps({"fatal": traceback.format_exc()[-4000:]}).encode())
        os._exit(1)
    sock.send(b"{}")
    compiled = False
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, 4096, 3)
        except OSError:
            os._exit(0)
        if not data or len(fds) != 3:
            os._exit(0)
        name = json.loads(data)["case"]
        if not compiled:  # at the first case: its clock runs, the key exists
            compile_submission(task["modules"])
            compiled = True
        pid = os.fork()
        if pid == 0:
            try:
                child_main(name, cases, task, fds)
            finally:
                os._exit(70)
        with contextlib.suppress(OSError):  # the child does it too: no race with killpg
            os.setpgid(pid, pid)
        for fd in fds:
            os.close(fd)
        sock.send(json.dumps({"pid": pid}).encode())
        _, status, usage = os.wait4(pid, 0)
        cpu = usage.ru_utime + usage.ru_stime
        sock.send(json.dumps({"exit": status, "cpu": cpu}).encode())


COMPILED: dict[str, tuple[bytes, object]] = {}  # module -> (sha256 of its source, code object)


def compile_submission(modules: list[str]) -> None:
    """Compile each submitted file once, in the zygote, so that no case child pays for it
    again (a fork inherits the code objects). Compiling runs none of the code, and the zygote
    holds nothing a case child lacks: it was forked before the key existed, and it reports
    only exit statuses. A file that does not compile (or takes the first case past its limit
    doing so) is the student's: the case children compile it themselves and report the error."""
    for name in modules:
        path = os.path.join(SUBMISSION, name + ".py")
        try:
            with open(path, "rb") as fh:
                source = fh.read()
            code = compile(source, path, "exec", dont_inherit=True)
        except Exception:  # SyntaxError, RecursionError, MemoryError, ...
            continue
        COMPILED[name] = (hashlib.sha256(source).digest(), code)


def load_cases():
    """Import hidden/cases.py (trusted) under a name no submitted file can take."""
    spec = importlib.util.spec_from_file_location(
        "_dlgrader_cases", os.path.join(HIDDEN, "cases.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- a case child


def child_main(name: str, cases, task: dict, fds: list[int]) -> None:
    """Run one case in this (forked) process and send its outputs; never returns.
    `fds`: its reply, print and stack pipes."""
    me = os.getpid()
    os.setpgid(0, 0)
    _prefer_me_for_oom()
    _only_my_pipes(*fds)
    faulthandler.register(STACK_SIGNAL, file=STACK_FD, all_threads=True, chain=False)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [STACK_SIGNAL])  # a pending one is dumped now
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
        note = gpu_usage_note(exc, int(task.get("gpu_memory_mb", 0)))
        payload = {"error": describe(exc)[: MAX_MESSAGE - len(note)] + note}
    if os.getpid() != me:
        os._exit(0)
    sys.stdout.flush()
    sys.stderr.flush()
    data = json.dumps(payload).encode()
    _write_all(REPLY_FD, struct.pack(">Q", len(data)) + data)
    os._exit(0)


def _only_my_pipes(reply_fd: int, print_fd: int, stack_fd: int) -> None:
    """stdout and stderr to the print pipe, the reply pipe on REPLY_FD, the stack pipe on
    STACK_FD, stdin from /dev/null, and every other descriptor (the zygote's socket, anything
    inherited) closed."""
    os.dup2(print_fd, 1)
    os.dup2(print_fd, 2)
    stack_fd = fcntl.fcntl(stack_fd, fcntl.F_DUPFD, STACK_FD + 1)  # clear of REPLY_FD, STACK_FD
    os.dup2(reply_fd, REPLY_FD)
    os.dup2(stack_fd, STACK_FD)
    os.closerange(STACK_FD + 1, MAX_FD)
    _null_stdin()
    sys.stdout.reconfigure(line_buffering=True)  # prints survive a later SIGKILL


def _prefer_me_for_oom() -> None:
    """Make the OOM killer pick this case rather than the harness (raising is unprivileged)."""
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")
    except OSError:
        pass


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


def gpu_usage_note(exc: BaseException, gpu_memory_mb: int) -> str:
    """For a CUDA out-of-memory error of a case on the GPU: what this case's process held (the
    caching allocator's reserved memory) and its cap, appended to the exception text, so the
    worker can tell a case over its own cap (MEMORY) from one that a co-tenant on a shared GPU
    starved (retried): grader/gpus.py, over_gpu_cap. Measured in this process, after the
    student's code raised, so it is only as trustworthy as that code (see over_gpu_cap)."""
    torch = sys.modules.get("torch")
    if torch is None or not _is_gpu_oom(exc):
        return ""
    try:
        if not torch.cuda.is_initialized():
            return ""
        held = int(torch.cuda.memory_reserved(0))
        total = int(torch.cuda.get_device_properties(0).total_memory)
    except Exception:
        return ""
    return format_gpu_usage(held, gpu_memory_fraction(gpu_memory_mb, total) * total)


def format_gpu_usage(held_bytes: int, cap_bytes: float) -> str:
    """' [GPU memory when it ran out: H MiB held by this case, cap C MiB]' (held rounded down,
    the cap up: a doubt counts as within the cap)."""
    held_mib = int(held_bytes) // MIB
    cap_mib = -(-int(cap_bytes) // MIB)
    return f" [GPU memory when it ran out: {held_mib} MiB held by this case, cap {cap_mib} MiB]"


def _is_gpu_oom(exc: BaseException) -> bool:
    """torch.OutOfMemoryError, or a RuntimeError worded like one (older torch, kernels)."""
    text = str(exc)
    return type(exc).__name__ == "OutOfMemoryError" or any(w in text for w in GPU_OOM_WORDS)


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
    """The traceback, for the case's output, limited to frames in submitted files."""
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


_FRAME = re.compile(
    r'^\s*File "(?P<path>[^"\n]{1,4096})", line (?P<line>\d{1,9}) in (?P<func>[\w<>]{1,80})$'
)
_THREAD = re.compile(r"^(Current thread|Thread) 0x[0-9a-f]+")


def where_it_was(dump: str) -> str:
    """From a faulthandler dump (innermost frame first), the innermost frames in submitted
    files of the first thread that has any: 'conv.py line 42 in conv_forward < ...'."""
    threads: list[list[str]] = []
    for line in dump.splitlines():
        if _THREAD.match(line):
            threads.append([])
            continue
        frame = _FRAME.match(line)
        if frame and threads and _submitted(frame["path"]):
            name = os.path.basename(frame["path"])
            threads[-1].append(f"{name} line {frame['line']} in {frame['func']}")
    frames = next((t for t in threads if t), [])
    return " < ".join(frames[:STACK_FRAMES])


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# ---------------------------------------------------------------- between cases


def sweep(zygote_pid: int) -> None:
    """As the container's init: kill every process but this one and the zygote (a case's
    leftovers), and reap the zombies. Never on a host (pid 1 there is not ours)."""
    if os.getpid() != 1:
        return
    for _ in range(100):
        strays = [pid for pid in _live_pids() if pid not in (1, zygote_pid)]
        for pid in strays:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        _reap(zygote_pid)
        if not strays:
            return
        time.sleep(0.005)


def _reap(zygote_pid: int) -> None:
    """Collect exited orphans (they are ours as init); the zygote's exit is left to stop()."""
    for pid in _live_pids(zombies=True):
        if pid != zygote_pid:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)


def _live_pids(zombies: bool = False) -> list[int]:
    """Pids of processes that are not zombies (with zombies=True: of those that are)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if (state in (b"Z", b"X")) == zombies:
            pids.append(int(entry))
    return pids


if __name__ == "__main__":
    main()
    # No interpreter shutdown (tens of ms with NumPy loaded, on every run's critical path: the
    # run ends when the container does). Records go out unbuffered; stderr is flushed here.
    sys.stderr.flush()
    os._exit(0)
