"""Warm single-use sandboxes (grader/warm.py) against the real Docker engine: a run takes a
container started ahead of time, grades exactly as a cold one, and nothing of one run reaches
the next (each run has its own container, removed after it)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from grader.engine import compute_reference, grade, run_data_for
from grader.job import CaseStatus, GradingJob
from grader.package import Package
from grader.reference import Draw, Reference
from grader.warm import WarmDockerSandbox
from tests.grader.conftest import TEST_LABEL

pytestmark = pytest.mark.docker

# Imported by every case: the container's token (made by the first case that finds none, so
# every case of one run shows the same token and only the first shows FRESH True), how many
# processes an earlier case or run left (the harness sweeps them), and a new such process.
PROBE = """
import os, subprocess, sys, uuid
fresh = not os.path.exists("/tmp/token")
if fresh:
    open("/tmp/token", "w").write(uuid.uuid4().hex)
strays = 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        strays += b"left-by-a-run" in open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        pass
print("TOKEN", open("/tmp/token").read(), "FRESH", fresh, "STRAYS", strays, flush=True)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)  # left-by-a-run"])
"""


@pytest.fixture
def warm(session_label: str) -> Iterator[WarmDockerSandbox]:
    box = WarmDockerSandbox(labels={TEST_LABEL: session_label}, size=1)
    yield box
    box.close()


@pytest.fixture(scope="module")
def reference(toy, sandbox) -> Reference:
    """The toy's reference outputs for one draw, computed once in a cold sandbox: the runs
    below then use one container each (no reference run beside them)."""
    draw = Draw.fresh()
    return Reference(draw, compute_reference(toy, draw, run_data_for(toy, draw), None, sandbox))


def warm_up(box: WarmDockerSandbox, toy: Package) -> None:
    (environment,) = toy.config.environments()
    box.warm_up(toy.config.limits, None, environment, toy.config.preload_for(environment))
    wait_for_waiting(box, 1)


def wait_for_waiting(box: WarmDockerSandbox, count: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while box.waiting() < count:
        assert time.monotonic() < deadline, "no warm container was started"
        time.sleep(0.1)


def probed(toy: Package) -> dict[str, bytes]:
    files = toy.solution_files()
    return {**files, "ops.py": PROBE.encode() + files["ops.py"]}


def probes(output: str) -> list[tuple[str, str, str]]:
    """(token, fresh, strays) for each case, in order."""
    return re.findall(r"^TOKEN (\w+) FRESH (\w+) STRAYS (\d+)$", output, re.M)


def test_runs_take_warm_containers_and_nothing_of_one_reaches_the_next(
    toy, warm, reference, leftovers
):
    warm_up(warm, toy)
    seen = []
    for _ in range(3):
        result = grade(GradingJob(files=probed(toy), package=toy, reference=reference), warm)
        assert result.score == result.max_score, result.message
        found = probes("".join(c.output for c in result.cases))
        assert len(found) == len(result.cases)
        assert [fresh for _, fresh, _ in found] == ["True"] + ["False"] * (len(found) - 1)
        assert {strays for *_, strays in found} == {"0"}  # nothing left from before
        seen.append({token for token, *_ in found})
        wait_for_waiting(warm, 1)  # the replacement, started after the run
    assert warm.taken == 3 and warm.cold == 0
    assert all(len(tokens) == 1 for tokens in seen)  # one container per run ...
    assert len(set().union(*seen)) == 3  # ... a different one each time
    deadline = time.monotonic() + 30  # used containers are removed in the background
    while len(leftovers()) > 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(leftovers()) == 1  # only the waiting one is left
    warm.close()
    assert leftovers() == []


def test_an_empty_pool_starts_a_cold_container_and_a_dead_warm_one_is_not_used(
    toy, warm, reference
):
    job = GradingJob(files=toy.solution_files(), package=toy, reference=reference)
    result = grade(job, warm)
    assert result.score == result.max_score and (warm.taken, warm.cold) == (0, 1)
    wait_for_waiting(warm, 1)
    with warm._lock:
        (waiting,) = [s for entries in warm._ready.values() for s, _ in entries]
    waiting.container.kill()  # it died while waiting (an engine restart, an OOM killer)
    time.sleep(0.5)
    result = grade(job, warm)
    assert result.score == result.max_score and (warm.taken, warm.cold) == (0, 2)


def test_a_time_out_in_a_warm_container_is_the_same_as_in_a_cold_one(
    toy, warm, reference, solution_with
):
    warm_up(warm, toy)
    files = solution_with("relu", "def relu(x):\n    while True:\n        pass\n")
    result = grade(GradingJob(files=files, package=toy, reference=reference), warm)
    assert warm.taken == 1
    relu = next(c for c in result.cases if c.name == "relu")
    assert relu.status == CaseStatus.TIMEOUT and relu.feedback == "ran past its time limit of 3 s"
