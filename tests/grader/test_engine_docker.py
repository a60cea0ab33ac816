"""grade() end to end on the toy package in real Docker sandboxes, honest and hostile."""

from __future__ import annotations

import re

import pytest

from grader.engine import SuiteError, fill_bank, grade
from grader.job import CaseStatus, GradingJob, GradingResult
from grader.reference import MemoryBank, bank_key

pytestmark = pytest.mark.docker

ALL = ["add", "matmul", "relu", "classify", "ranking"]


def statuses(result: GradingResult) -> dict[str, CaseStatus]:
    return {c.name: c.status for c in result.cases}


def case(result: GradingResult, name: str):
    return next(c for c in result.cases if c.name == name)


def printed(result: GradingResult) -> str:
    """What the cases printed (each case's output), in case order."""
    return "\n".join(c.output for c in result.cases)


def passed_except(result: GradingResult, *names: str) -> bool:
    return all(s == CaseStatus.PASSED for n, s in statuses(result).items() if n not in names)


def test_reference_scores_full_marks_and_a_banked_reference_is_used_once(toy, sandbox):
    """The solution passes everything. A run takes a precomputed reference from the bank
    (no reference time on its path); the next finds the bank empty and computes its own."""
    bank = MemoryBank()
    banked = fill_bank(toy, sandbox, bank)
    first = grade(GradingJob(toy.solution_files(), toy), sandbox, bank)
    second = grade(GradingJob(toy.solution_files(), toy), sandbox, bank)
    assert (first.score, first.max_score) == (12.0, 12.0) and second.score == 12.0
    assert first.message == "5 of 5 cases passed"
    assert set(first.timings) == {
        *("total", "acquire", "container", "ready", "cases", "reference", "startup", "scoring"),
        *("cpu", "case_cpu"),
    }
    assert first.timings["cpu"] > first.timings["case_cpu"] > 0.0
    assert first.timings["reference"] == 0.0 and second.timings["reference"] > 0.0
    assert bank.size(bank_key(toy.sha256, "cpu")) == 0
    assert banked.draw.secret != banked.draw.seed
    assert case(first, "classify").feedback == "accuracy 1.0000 (needs at least 0.9)"


def test_a_job_limited_to_some_cases_runs_and_scores_only_those(toy, sandbox):
    """The self-check's staged mutants: `cases` picks the cases; the max stays the suite's."""
    job = GradingJob(files=toy.solution_files(), package=toy, cases=("add", "relu"))
    result = grade(job, sandbox)
    assert [c.name for c in result.cases] == ["add", "relu"]
    assert result.max_score == 12.0 and result.score == sum(c.max_points for c in result.cases)


def test_starter_scores_zero(run_toy, toy):
    result = run_toy(toy.starter_files())
    assert result.score == 0.0
    assert set(statuses(result).values()) == {CaseStatus.ERROR}
    assert case(result, "add").feedback == "your code raised an exception"
    assert case(result, "add").detail == "NotImplementedError (ops.py line 5)"
    assert "frames in your files" in case(result, "add").output
    assert "hidden/cases.py" not in printed(result)


def test_one_wrong_function_gives_partial_credit(run_toy, solution_with):
    """A transposed product fails only matmul, with feedback naming the output and shapes."""
    result = run_toy(solution_with("matmul", "def matmul(a, b):\n    return (a @ b).T\n"))
    assert result.score == 9.0 and passed_except(result, "matmul")
    assert case(result, "matmul").status == CaseStatus.FAILED
    assert case(result, "matmul").feedback == "output 'out': expected shape (4, 2), got (2, 4)"


def test_infinite_loop_times_out_one_case(run_toy, solution_with, leftovers):
    """The looping case is a TIMEOUT; cases before and after it keep their points."""
    result = run_toy(solution_with("relu", "def relu(x):\n    while True:\n        pass\n"))
    assert case(result, "relu").status == CaseStatus.TIMEOUT
    assert case(result, "relu").feedback == "ran past its time limit of 3 s"
    # where the loop was, named by the case's own stack shortly before the limit
    assert re.fullmatch(
        r"where the code was: ops\.py line \d+ in relu", case(result, "relu").detail
    )
    assert result.score == 10.0 and passed_except(result, "relu")
    assert leftovers() == []


def test_a_case_process_runs_the_submission_single_threaded(run_toy, solution_with):
    """The harness starts no thread in a case's process (a second thread makes glibc's malloc
    lock on every call), and a case ignoring the stack request still times out with its
    record."""
    threads = (
        "import signal\n\ndef relu(x):\n"
        "    print([l for l in open('/proc/self/status') if l.startswith('Threads')])\n"
        "    return x * (x > 0), x > 0\n\n"
        "def matmul(a, b):\n    signal.signal(signal.SIGUSR2, signal.SIG_IGN)\n"
        "    while True:\n        pass\n"
    )
    result = run_toy(solution_with("relu", threads))
    assert case(result, "relu").status == CaseStatus.PASSED
    assert "['Threads:\\t1\\n']" in case(result, "relu").output
    assert case(result, "matmul").status == CaseStatus.TIMEOUT
    assert case(result, "matmul").feedback == "ran past its time limit of 3 s"


def test_memory_bomb_is_a_memory_error(run_toy, solution_with):
    bomb = (
        "def matmul(a, b):\n    chunks = []\n    while True:\n"
        "        chunks.append(b'x' * (10 << 20))\n"
    )
    result = run_toy(solution_with("matmul", bomb))
    assert case(result, "matmul").status == CaseStatus.MEMORY
    assert case(result, "matmul").feedback == "exceeded the memory limit of 256 MB"
    assert passed_except(result, "matmul")


NETWORK = """
import socket

def add(a, b):
    print("IFACES", [name for _, name in socket.if_nameindex()])
    for target in [("127.0.0.1", 6379), ("172.17.0.1", 6379), ("1.1.1.1", 53)]:
        try:
            socket.create_connection(target, timeout=1).close()
            print("CONNECTED", target)
        except OSError as exc:
            print("BLOCKED", target, type(exc).__name__)
    try:
        socket.getaddrinfo("pypi.org", 443)
        print("RESOLVED")
    except OSError:
        print("NO DNS")
    return a + b
"""


def test_no_network_inside(run_toy, solution_with):
    """Only 'lo' exists; the host's Redis port is refused on the sandbox's own loopback."""
    result = run_toy(solution_with("add", NETWORK))
    assert result.score == 12.0
    out = printed(result)
    assert "IFACES ['lo']" in out
    assert "BLOCKED ('127.0.0.1', 6379) ConnectionRefusedError" in out
    assert "CONNECTED" not in out and "RESOLVED" not in out
    assert "NO DNS" in out


def test_forged_results_files_gain_nothing(run_toy, solution_with):
    """A fake results file cannot turn a wrong answer into points: scoring compares outside."""
    files = solution_with("matmul", "def matmul(a, b):\n    return a @ b + 1.0\n")
    forger = b'import json\njson.dump({"score": 999}, open("/job/results.json", "w"))\n'
    files["ops.py"] = forger + files["ops.py"]
    result = run_toy(files)
    assert result.score == 9.0 and passed_except(result, "matmul")
    assert case(result, "matmul").status == CaseStatus.FAILED
    assert [c.name for c in result.cases] == ALL


def test_exit_at_import_scores_zero(run_toy):
    result = run_toy({"ops.py": b"import os\nos._exit(0)\n"})
    assert result.score == 0.0
    assert {c.feedback for c in result.cases} == {
        "the case's process exited (code 0) before returning its outputs"
    }


LISTING = """
import os

MARKERS = ["Toy assignment: " + "reference solution", "Toy " + "custom checks", "toy_" + "labels"]

def add(a, b):
    hits = []
    for root, dirs, files in os.walk("/"):
        if root in ("/proc", "/sys", "/dev"):
            dirs[:] = []
            continue
        for name in files:
            path = os.path.join(root, name)
            hits += [path for m in MARKERS if m in path]
            if root.startswith("/usr") or not os.path.isfile(path):
                continue
            try:
                with open(path, "rb") as fh:
                    data = fh.read(1 << 20)
            except OSError:
                continue
            hits += [f"{path} holds {m}" for m in MARKERS if m.encode() in data]
    print("HITS", hits)
    job = [os.path.relpath(os.path.join(r, f), "/job") for r, _, fs in os.walk("/job") for f in fs]
    print("JOB", sorted(job))
    return a + b
"""


def test_student_container_holds_no_solution_labels_or_checks(run_toy):
    """Listing the whole filesystem from a case: only harness, task, submission, cases, data."""
    result = run_toy({"ops.py": LISTING.encode()})
    assert case(result, "add").status == CaseStatus.PASSED
    assert "HITS []" in case(result, "add").output
    expected = [
        "harness.py",
        "hidden/cases.py",
        "hidden/data/points.npy",
        "submission/ops.py",
        "task.json",
    ]
    assert f"JOB {expected}" in case(result, "add").output


def test_fork_bomb_is_contained(run_toy, solution_with, leftovers):
    bomb = (
        "import os\n\ndef relu(x):\n    while True:\n        try:\n            os.fork()\n"
        "        except OSError:\n            pass\n"
    )
    result = run_toy(solution_with("relu", bomb))
    assert case(result, "relu").status == CaseStatus.TIMEOUT
    assert result.score == 10.0 and passed_except(result, "relu")
    assert leftovers() == []


def test_output_flood_is_contained(run_toy, solution_with):
    """A case printing without end is cut off; the log stays within log_kb; others still run."""
    flood = "def relu(x):\n    while True:\n        print('A' * 100000)\n"
    result = run_toy(solution_with("relu", flood))
    assert case(result, "relu").status == CaseStatus.TIMEOUT
    assert passed_except(result, "relu")
    flooded = case(result, "relu").output
    assert 16 * 1024 <= len(flooded.encode()) <= 17 * 1024
    assert "more output from this case was dropped" in flooded


def test_wall_clock_ends_the_run(toy_variant, run_package, solution_with):
    """Past wall_s the running case is a TIMEOUT naming the overall limit, later ones NOT_RUN."""
    package = toy_variant(
        {"assignment.toml": ("wall_s = 20\ncase_s = 3", "wall_s = 4\ncase_s = 30")}
    )
    files = solution_with("relu", "def relu(x):\n    while True:\n        pass\n")
    result = run_package(package, files)
    assert statuses(result) == {
        "add": CaseStatus.PASSED,
        "matmul": CaseStatus.PASSED,
        "relu": CaseStatus.TIMEOUT,
        "classify": CaseStatus.NOT_RUN,
        "ranking": CaseStatus.NOT_RUN,
    }
    assert case(result, "relu").feedback == (
        "the run hit the overall time limit of 4 s while this case was running"
    )
    assert case(result, "ranking").feedback == "not run: the run hit the overall time limit of 4 s"
    assert result.message == "2 of 5 cases passed; the run hit the overall time limit of 4 s"
    assert result.score == 5.0


def test_a_suite_whose_solution_fails_is_a_suite_error(toy_variant, run_package):
    package = toy_variant({"solution/ops.py": ("return a @ b", "raise ValueError('oops')")})
    with pytest.raises(
        SuiteError, match="reference solution fails case 'matmul': ValueError: oops"
    ):
        run_package(package, package.starter_files())
