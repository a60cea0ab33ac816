"""Issue 9, stalled runs, on real Docker sandboxes: the progress watchdog (grader/sandbox.py)
ends a run whose harness stops reporting, at the running case's time limit plus a grace,
instead of holding the worker's slot until the run's wall limit.

The stall package (tests/fixtures/stall) has three cases with 3 s limits and a 60 s wall
limit; its cases are judged by custom checks, so no reference run is on the timed path.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from grader import engine
from grader.engine import grade
from grader.job import CaseStatus, GradingJob, GradingResult
from grader.package import Package, load_package
from grader.sandbox import PROGRESS_GRACE_S, DockerSandbox, SandboxError

pytestmark = pytest.mark.docker

STALL = Path(__file__).resolve().parent.parent / "fixtures" / "stall"
CASE_S = 3.0  # the stall package's case limit
WALL_S = 60.0  # and its wall limit
SLACK_S = 6.0  # container start, removal, a loaded machine
RUN_LABEL = "dlgrader.test-watchdog"

PROBE = """
import ctypes, os, signal, time


def first():
    return 1


def third():
    return 3


def second():
{BODY}
"""

# Names itself (prctl PR_SET_NAME: the comm that `docker top -o comm` shows), so the test
# knows the second case is running, then waits far past its limit.
MARK_AND_WAIT = """
    ctypes.CDLL(None).prctl(15, b"case-second", 0, 0, 0)
    time.sleep(300)
    return 2
"""

# Issue 9's attack: SIGSTOP to its parent (the zygote), to pid 1 (the supervisor) and to
# every process it can see, itself last.
STOP_EVERYTHING = """
    me = os.getpid()
    pids = [os.getppid(), 1] + sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    for pid in pids + [me]:
        try:
            os.kill(pid, signal.SIGSTOP)
        except OSError:
            pass
    return 2
"""


def probe(body: str) -> dict[str, bytes]:
    return {"probe.py": PROBE.replace("{BODY}", body.strip("\n")).encode()}


def case(result: GradingResult, name: str):
    return next(c for c in result.cases if c.name == name)


@pytest.fixture(scope="module")
def stall() -> Package:
    return load_package(STALL)


@pytest.fixture
def run_label() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def box(test_labels: dict[str, str], run_label: str) -> Iterator[DockerSandbox]:
    """A sandbox whose containers carry this test's own label (and the session's)."""
    sandbox = DockerSandbox(labels={**test_labels, RUN_LABEL: run_label})
    yield sandbox
    sandbox.close()


@pytest.fixture
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.from_env(timeout=30)
    yield client
    client.close()


def when_running(
    client: docker.DockerClient, label: str, process: str, act: Callable, limit_s: float = 30.0
) -> threading.Thread:
    """In a thread: find this test's container, wait until a process named `process` runs in
    it (docker top, from the host), then act(container)."""

    def watch() -> None:
        end = time.monotonic() + limit_s
        while time.monotonic() < end:
            for container in client.containers.list(filters={"label": f"{RUN_LABEL}={label}"}):
                try:
                    top = container.top(ps_args="-o pid,comm")
                except docker.errors.APIError:
                    continue  # not started yet, or gone
                if any(row[-1] == process for row in top.get("Processes") or []):
                    act(container)
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_harness_stopped_from_outside_is_ended_at_the_case_limit(
    stall, box, run_label, docker_client, leftovers
):
    """The supervisor (pid 1) is SIGSTOPped from the host (which, unlike any process in the
    container, can stop an init) while the second case runs: the run ends at that case's
    limit plus the grace, not at the wall limit; the first case keeps its pass, the second
    is TIMEOUT in the grader's words, the third was not run, and the container is gone."""
    thread = when_running(
        docker_client, run_label, "case-second", lambda c: c.kill(signal="SIGSTOP")
    )
    started = time.monotonic()
    result = grade(GradingJob(probe(MARK_AND_WAIT), stall), box)
    took = time.monotonic() - started
    thread.join(timeout=5)
    assert took < CASE_S + PROGRESS_GRACE_S + SLACK_S < WALL_S, took
    assert case(result, "first").status == CaseStatus.PASSED
    second = case(result, "second")
    assert second.status == CaseStatus.TIMEOUT
    assert second.feedback == (
        "the run stopped reporting progress: ended after this case's time limit of 3 s"
    )
    third = case(result, "third")
    assert third.status == CaseStatus.NOT_RUN
    assert third.feedback == "not run: the run stopped reporting progress before this case"
    assert result.score == 1.0
    assert result.message == "1 of 3 cases passed; the run stopped reporting progress and was ended"
    assert (
        docker_client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run_label}"}) == []
    )
    assert leftovers() == []


def test_a_frozen_container_is_ended_at_the_case_limit(stall, box, run_label, docker_client):
    """The same with the whole container frozen (docker pause: the cgroup freezer): the
    watchdog still ends it (Docker kills a paused container) and removes it."""
    thread = when_running(docker_client, run_label, "case-second", lambda c: c.pause())
    started = time.monotonic()
    result = grade(GradingJob(probe(MARK_AND_WAIT), stall), box)
    took = time.monotonic() - started
    thread.join(timeout=5)
    assert took < CASE_S + PROGRESS_GRACE_S + SLACK_S, took
    assert [c.status for c in result.cases] == [
        CaseStatus.PASSED,
        CaseStatus.TIMEOUT,
        CaseStatus.NOT_RUN,
    ]
    assert (
        docker_client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run_label}"}) == []
    )


def test_a_case_that_sigstops_everything_it_sees_holds_the_run_only_to_its_limit(stall, box):
    """Issue 9's attack from inside: SIGSTOP to the zygote, to pid 1 and to every pid in
    /proc. The supervisor, as init, ignores it; the stopped zygote is killed once the case's
    limit passes (plus the harness's 2 s exit grace); the run ends well before the wall
    limit, and nothing needed the watchdog."""
    started = time.monotonic()
    result = grade(GradingJob(probe(STOP_EVERYTHING), stall), box)
    took = time.monotonic() - started
    assert took < CASE_S + PROGRESS_GRACE_S + SLACK_S, took
    assert case(result, "first").status == CaseStatus.PASSED
    second = case(result, "second")
    assert second.status == CaseStatus.TIMEOUT
    assert second.feedback == "ran past its time limit of 3 s"  # the harness's own record
    assert case(result, "third").feedback == "not run: an earlier case stopped the case runner"
    assert "stopped reporting progress" not in result.message


def test_a_harness_that_never_gets_ready_is_an_infrastructure_error(
    stall, box, run_label, docker_client, monkeypatch, tmp_path
):
    """Before "ready" only trusted code runs (preload, cases.py): a harness stuck there is
    not the student's doing. Here cases.py hangs at import; with a 4 s start-up allowance the
    run ends in seconds with a SandboxError (the worker retries), not a score."""
    folder = tmp_path / "stall-hung"
    folder.mkdir()
    for path in STALL.rglob("*"):
        if path.is_file():
            target = folder / path.relative_to(STALL)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    cases = folder / "hidden" / "cases.py"
    cases.write_text("import time\ntime.sleep(300)\n" + cases.read_text())
    hung = load_package(folder)
    original = engine.ProgressSchedule

    def short_startup(timeouts, **options):
        return original(timeouts, startup_s=4.0, **options)

    monkeypatch.setattr(engine, "ProgressSchedule", short_startup)
    started = time.monotonic()
    with pytest.raises(SandboxError, match="start-up allowance of 4 s"):
        grade(GradingJob(hung.solution_files(), hung), box)
    assert time.monotonic() - started < 4.0 + SLACK_S
    assert (
        docker_client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run_label}"}) == []
    )
