"""The integrity issue's findings 1, 2 and 4 as attacks on real Docker sandboxes: a score must
mean the submitted code computed it (threat model: DESIGN.md and README.md, "Integrity")."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from grader import engine
from grader.engine import grade
from grader.job import CaseStatus, GradingJob, GradingResult
from grader.package import load_package

pytestmark = pytest.mark.docker


def case(result: GradingResult, name: str):
    return next(c for c in result.cases if c.name == name)


# ---------------------------------------------------------------- finding 1: replayed inputs

RECORDER = """
import hashlib
import json
import numpy as np


def add(a, b):
    print("INPUTS", json.dumps([a.tolist(), b.tolist()]))
    print("TASK", open("/job/task.json").read())
    return a + b
"""

REPLAYER = """
import numpy as np

TABLE = {TABLE!r}


def add(a, b):
    key = repr(np.round(a, 12).tolist())
    return np.array(TABLE[key]) if key in TABLE else np.zeros_like(a)
"""


def test_a_lookup_table_of_one_runs_inputs_scores_nothing_in_the_next(run_toy, solution_with):
    """Finding 1: every run draws fresh inputs, so outputs recorded (or computed offline
    with any oracle) from what one run printed are worth nothing in the next run."""
    first = run_toy(solution_with("add", RECORDER))
    printed = case(first, "add").output
    a, b = json.loads(re.search(r"^INPUTS (.*)$", printed, re.M).group(1))
    task = json.loads(re.search(r"^TASK (.*)$", printed, re.M).group(1))
    assert not {"nonce", "key", "secret"} & set(task)  # nothing secret is in the sandbox
    table = {repr(np.round(np.array(a), 12).tolist()): (np.array(a) + np.array(b)).tolist()}
    replay = solution_with("add", REPLAYER.replace("{TABLE!r}", repr(table)))
    second = run_toy(replay)
    assert case(second, "add").status == CaseStatus.FAILED
    third = run_toy(solution_with("add", RECORDER))
    again = json.loads(re.search(r"^INPUTS (.*)$", case(third, "add").output, re.M).group(1))
    assert again[0] != a  # a third run draws fresh inputs too


# ---------------------------------------------------------------- finding 2: forged records

FORGER = """
import ctypes, json, os, signal

# The record key's first bytes, and bytes of the same length that are nowhere in the sandbox:
# both are built and searched the same way, so the search's own copies count the same.
PREFIX = bytes(b ^ 0x5A for b in bytes.fromhex("{MASKED}"))
CONTROL = bytes(b ^ 0x5A for b in bytes.fromhex("{CONTROL}"))


def scan_memory(needle):
    # Every readable mapping of this process, searched for `needle` (not at its own address).
    held = (ctypes.c_char * len(needle)).from_buffer(bytearray(needle))
    own = ctypes.addressof(held)
    hits = 0
    maps = open("/proc/self/maps").read().splitlines()
    with open("/proc/self/mem", "rb", buffering=0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            if "r" not in perms or "[vvar]" in line or "[vsyscall]" in line:
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except (OSError, OverflowError, ValueError):
                continue
            at = data.find(bytes(held))
            while at != -1:
                hits += start + at != own
                at = data.find(bytes(held), at + 1)
    return hits


def attempt(report, what, fn):
    try:
        report[what] = fn()
    except Exception as exc:
        report[what] = type(exc).__name__


def add(a, b):
    report = {}
    for path in ("/proc/1/fd/1", "/proc/1/fd/2", "/proc/1/mem", f"/proc/{os.getppid()}/fd/1",
                 f"/proc/{os.getppid()}/mem", "/proc/1/environ"):
        attempt(report, path, lambda: open(path, "rb").close() or "OPENED")
    libc = ctypes.CDLL(None, use_errno=True)
    for pid in (1, os.getppid()):
        attempt(report, f"ptrace {pid}", lambda: libc.ptrace(16, pid, 0, 0))  # PTRACE_ATTACH
    attempt(report, "stop init", lambda: os.kill(1, signal.SIGSTOP) or "sent")
    attempt(report, "kill init", lambda: os.kill(1, signal.SIGKILL) or "sent")
    report["fds"] = {}
    for fd in os.listdir("/proc/self/fd"):
        try:  # the listing's own descriptor is gone by now
            report["fds"][fd] = os.readlink(f"/proc/self/fd/{fd}").split(":")[0]
        except OSError:
            pass
    libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: its own memory becomes readable to itself
    report["key in memory"] = scan_memory(PREFIX) - scan_memory(CONTROL)
    report["key hex in memory"] = scan_memory(PREFIX.hex().encode()) - scan_memory(
        CONTROL.hex().encode()
    )
    report["control"] = scan_memory(bytes(a.tobytes()[:16]))  # the scan does find things
    print("REPORT", json.dumps(report))
    fake = json.dumps({"seq": 2, "case": "matmul", "status": "ok", "outputs": {}})
    for fd in set(range(64)) - {3}:  # all it can write (3, its reply, would spoil its own)
        try:
            os.write(fd, (fake + " " + "0" * 64 + "\\n").encode())
        except OSError:
            pass
    return a + b
"""

KEY = hashlib.sha256(b"the record key of this test").digest()  # random-looking bytes


def test_case_code_cannot_reach_the_record_channel_or_its_key(
    run_toy, toy, solution_with, monkeypatch
):
    """Finding 2: a case process cannot open the harness's (pid 1's) streams or memory,
    ptrace or signal it, holds no descriptor but its own pipes, and never has the record key
    in its memory; what it writes anywhere does not count."""
    monkeypatch.setattr(engine.secrets, "token_bytes", lambda n: KEY[:n])
    masked = bytes(b ^ 0x5A for b in KEY[:12]).hex()
    control = bytes(b ^ 0x5A for b in hashlib.sha256(b"a control").digest()[:12]).hex()
    files = solution_with("add", FORGER.replace("{MASKED}", masked).replace("{CONTROL}", control))
    files["ops.py"] += b"\n\ndef matmul(a, b):\n    raise NotImplementedError\n"
    result = run_toy(files)
    report = json.loads(re.search(r"^REPORT (.*)$", case(result, "add").output, re.M).group(1))
    opened = {k: v for k, v in report.items() if k.startswith("/proc/")}
    assert len(opened) == 6 and set(opened.values()) == {"PermissionError"}, opened
    assert all(v == -1 for k, v in report.items() if k.startswith("ptrace"))
    assert report["stop init"] == "sent" and report["kill init"] == "sent"  # and ignored
    # stdin from /dev/null, the print pipe as stdout and stderr, the reply pipe and the stack
    # pipe (its own "where the code was" on a time-out): nothing else
    assert report["fds"] == {"0": "/dev/null", "1": "pipe", "2": "pipe", "3": "pipe", "4": "pipe"}
    assert report["key in memory"] == 0 and report["key hex in memory"] == 0
    assert report["control"] >= 1
    assert case(result, "add").status == CaseStatus.PASSED
    assert case(result, "matmul").status == CaseStatus.ERROR  # forged "ok" records ignored
    assert [c.status for c in result.cases[2:]] == [CaseStatus.PASSED] * 3  # init lived on
    assert "unauthenticated line" not in result.log  # nothing forged even reached the stream


# ---------------------------------------------------------------- finding 4: forbidden libraries

AUTOGRAD_BACKWARD = """

def linear_backward(dout, cache):
    import pydoc  # routes the static check does not see
    torch = pydoc.locate("to" + "rch")
    x, W, b = (torch.tensor(a, requires_grad=True) for a in cache)
    out = x @ W.T + b
    out.backward(torch.tensor(dout))
    return x.grad.numpy(), W.grad.numpy(), b.grad.numpy()
"""


def test_torch_autograd_reached_around_the_static_check_is_not_there(sandbox):
    """Finding 4: backprop forbids torch; a backward pass that reaches it by pydoc.locate
    passes the static check, but torch is not installed where the case runs."""
    backprop = load_package(Path(__file__).resolve().parents[2] / "assignments" / "backprop")
    files = backprop.solution_files()
    files["layers.py"] += AUTOGRAD_BACKWARD.encode()
    result = grade(GradingJob(files, backprop), sandbox)
    backward = case(result, "linear_backward")
    assert backward.status == CaseStatus.ERROR
    assert "NoneType" in backward.detail  # pydoc.locate found no torch
    assert case(result, "linear_forward").status == CaseStatus.PASSED
