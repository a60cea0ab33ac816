"""The progress watchdog without Docker (issue 9): the schedule of when the harness's next
record line is due, the reader that enforces it, and how the engine and scoring treat a run
that stopped reporting (the Docker side: test_watchdog_docker.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from grader.engine import grade
from grader.job import CaseStatus, GradingJob, Limits, RunStatus
from grader.package import Package, load_package
from grader.sandbox import (
    PROGRESS_GRACE_S,
    PROGRESS_STARTUP_S,
    FrameReader,
    ProgressSchedule,
    ProgressWatch,
    SandboxError,
    SandboxOutput,
)
from grader.scoring import RunOutcome, unreported

STALL = Path(__file__).resolve().parent.parent / "fixtures" / "stall"

# ---------------------------------------------------------------- the schedule


def test_each_line_is_due_by_its_position_in_the_record_stream():
    """ready, then per case a start and a record, then done: line 0 within the start-up
    allowance, a case's record within its own limit plus the grace, every other line within
    the grace."""
    schedule = ProgressSchedule((3.0, 7.0), startup_s=60.0, grace_s=5.0)
    due = [schedule.allowance(seen) for seen in range(8)]
    # seen: 0 (nothing yet), 1 (ready), 2 (start 0), 3 (record 0), 4 (start 1), 5 (record 1),
    # 6 (done), 7 (anything more)
    assert due == [60.0, 5.0, 8.0, 5.0, 12.0, 5.0, 5.0, 5.0]


def test_the_defaults_leave_room_for_a_slow_start_and_the_harness_s_own_kill():
    schedule = ProgressSchedule((30.0,))
    assert schedule.allowance(0) == PROGRESS_STARTUP_S >= 60.0
    assert schedule.allowance(2) == 30.0 + PROGRESS_GRACE_S
    assert PROGRESS_GRACE_S > 2.0  # the harness's EXIT_GRACE_S after killing a case


def test_the_watch_moves_the_deadline_from_the_latest_line():
    watch = ProgressWatch(ProgressSchedule((3.0, 7.0), startup_s=60.0, grace_s=5.0), 100.0)
    assert watch.deadline == 160.0
    watch.saw_lines(0, 101.0)  # a chunk without a newline is no progress
    assert (watch.lines, watch.deadline) == (0, 160.0)
    watch.saw_lines(2, 101.0)  # ready and the first start in one chunk
    assert (watch.lines, watch.deadline) == (2, 109.0)
    watch.saw_lines(1, 104.0)  # the first case's record
    assert (watch.lines, watch.deadline) == (3, 109.0)
    watch.saw_lines(1, 104.5)  # the second case starts
    assert watch.deadline == 104.5 + 12.0


# ---------------------------------------------------------------- the reader


def frame(stream: int, payload: bytes) -> bytes:
    """One frame of Docker's attach stream."""
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def read_in_thread(reader: FrameReader, sock: socket.socket, wall_s: float) -> threading.Thread:
    thread = threading.Thread(target=reader.read_until, args=(sock, time.monotonic() + wall_s))
    thread.start()
    return thread


def test_the_reader_stops_when_the_next_line_is_overdue_not_at_the_wall_limit():
    """Lines split across frames count at their newline; stderr is no progress; once the
    first case's record is overdue the reader stops with `stalled`, long before the wall."""
    ours, theirs = socket.socketpair()
    schedule = ProgressSchedule((0.5, 30.0), startup_s=5.0, grace_s=0.3)
    started = time.monotonic()
    reader = FrameReader(1 << 20, 1 << 10, ProgressWatch(schedule, started))
    thread = read_in_thread(reader, ours, wall_s=30.0)
    theirs.sendall(frame(1, b"ready line\nstart"))
    theirs.sendall(frame(1, b" of case 0\n"))
    for _ in range(5):  # the log keeps talking; that is not progress
        theirs.sendall(frame(2, b"noise\n"))
        time.sleep(0.1)
    thread.join(timeout=10)
    took = time.monotonic() - started
    assert not thread.is_alive()
    assert reader.stalled and not reader.timed_out
    assert reader.watch.lines == 2
    assert 0.5 + 0.3 <= took < 3.0
    assert bytes(reader.stdout) == b"ready line\nstart of case 0\n"
    ours.close()
    theirs.close()


def test_a_run_that_keeps_reporting_is_not_stopped():
    """Every line within its allowance: the reader reads to the end of the stream."""
    ours, theirs = socket.socketpair()
    schedule = ProgressSchedule((0.6, 0.6), startup_s=0.6, grace_s=0.4)
    reader = FrameReader(1 << 20, 1 << 10, ProgressWatch(schedule, time.monotonic()))
    thread = read_in_thread(reader, ours, wall_s=30.0)
    for line in (b"ready", b"start 0", b"record 0", b"start 1", b"record 1", b"done"):
        time.sleep(0.25)
        theirs.sendall(frame(1, line + b"\n"))
    theirs.close()
    thread.join(timeout=10)
    assert not (reader.stalled or reader.timed_out)
    assert reader.watch.lines == 6
    ours.close()


def test_without_a_schedule_only_the_wall_limit_ends_a_silent_run():
    ours, theirs = socket.socketpair()
    reader = FrameReader(1 << 20, 1 << 10)
    started = time.monotonic()
    thread = read_in_thread(reader, ours, wall_s=1.0)
    thread.join(timeout=10)
    assert reader.timed_out and not reader.stalled
    assert time.monotonic() - started >= 1.0
    ours.close()
    theirs.close()


# ---------------------------------------------------------------- engine and scoring


class ScriptedHarness:
    """A Sandbox that answers with authenticated records for the given events (what the
    harness would have written before it stopped) and the given flags; it keeps the schedule
    it was handed."""

    def __init__(self, events: list[dict], **flags) -> None:
        self.events = events
        self.flags = {"stalled": True, **flags}
        self.schedules: list[ProgressSchedule | None] = []

    def run(
        self, bundle, limits: Limits, gpu_device, environment="torch", progress=None
    ) -> SandboxOutput:
        self.schedules.append(progress)
        key = bytes.fromhex(bundle[-65:-1].decode())  # grader.bundle.sandbox_stdin's tail
        lines = []
        for seq, event in enumerate(self.events):
            payload = json.dumps({"seq": seq, **event}).encode()
            lines.append(
                payload + b" " + hmac.new(key, payload, hashlib.sha256).hexdigest().encode()
            )
        stdout = b"".join(line + b"\n" for line in lines)
        return SandboxOutput(stdout, b"", 137, False, False, False, 9.0, **self.flags)


def npy_b64(value: int) -> str:
    buf = io.BytesIO()
    np.save(buf, np.asarray(value), allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode()


OK_FIRST = {"case": "first", "status": "ok", "message": "", "seconds": 0.01, "outputs": {}}


@pytest.fixture
def stall_variant(tmp_path: Path):
    """The stall package with `timeout_s` set on its second case."""

    def build(second_timeout_s: float) -> Package:
        folder = tmp_path / "stall"
        shutil.copytree(STALL, folder)
        toml = folder / "assignment.toml"
        text = toml.read_text()
        marker = 'name = "second"\n'
        toml.write_text(text.replace(marker, marker + f"timeout_s = {second_timeout_s}\n"))
        return load_package(folder)

    return build


def test_a_stalled_case_times_out_and_the_cases_before_it_keep_their_scores(stall_variant):
    """The engine hands the sandbox the cases' limits in the harness's order; a run that
    stopped during the second case: first scored from its record, second TIMEOUT with its
    own limit named, third not run, and the run is GRADED (the stall is the submission's)."""
    package = stall_variant(7)
    harness = ScriptedHarness(
        [
            {"event": "ready", "seconds": 0.2},
            {"event": "start", "case": "first"},
            {**OK_FIRST, "outputs": {"value": npy_b64(1)}},
            {"event": "start", "case": "second"},
        ]
    )
    result = grade(GradingJob(package.solution_files(), package), harness)
    assert harness.schedules == [ProgressSchedule((3.0, 7.0, 3.0))]
    assert result.status == RunStatus.GRADED
    assert [c.status for c in result.cases] == [
        CaseStatus.PASSED,
        CaseStatus.TIMEOUT,
        CaseStatus.NOT_RUN,
    ]
    assert result.cases[1].feedback == (
        "the run stopped reporting progress: ended after this case's time limit of 7 s"
    )
    assert (
        result.cases[2].feedback == "not run: the run stopped reporting progress before this case"
    )
    assert result.message == "1 of 3 cases passed; the run stopped reporting progress and was ended"


def test_a_stall_between_cases_leaves_the_rest_not_run(stall_variant):
    package = stall_variant(7)
    events = [
        {"event": "ready", "seconds": 0.2},
        {"event": "start", "case": "first"},
        {**OK_FIRST, "outputs": {"value": npy_b64(1)}},
    ]
    result = grade(GradingJob(package.solution_files(), package), ScriptedHarness(events))
    assert [c.status for c in result.cases] == [
        CaseStatus.PASSED,
        CaseStatus.NOT_RUN,
        CaseStatus.NOT_RUN,
    ]


def test_a_stall_before_any_case_started_is_an_infrastructure_error(stall_variant):
    """No submitted code had run: before "ready" (start-up) or between it and the first
    case's start. SandboxError, so the worker retries; never a score."""
    package = stall_variant(7)
    job = GradingJob(package.solution_files(), package)
    with pytest.raises(SandboxError, match="did not start: .*start-up allowance of 60 s"):
        grade(job, ScriptedHarness([]))
    with pytest.raises(SandboxError, match="stopped reporting before the first case started"):
        grade(job, ScriptedHarness([{"event": "ready", "seconds": 0.2}]))


class LegacySandbox:
    """A Sandbox written before the watchdog: its run takes no schedule."""

    def run(self, bundle, limits: Limits, gpu_device, environment="torch") -> SandboxOutput:
        return ScriptedHarness([{"event": "ready", "seconds": 0.1}], stalled=False).run(
            bundle, limits, gpu_device, environment
        )


def test_a_sandbox_without_the_progress_parameter_still_runs(stall_variant):
    package = stall_variant(7)
    result = grade(GradingJob(package.solution_files(), package), LegacySandbox())
    assert result.status == RunStatus.GRADED
    assert "stopped reporting" not in result.message


def test_unreported_words_a_stall():
    outcome = RunOutcome(stalled=True, stall_s=2.5)
    assert unreported(True, outcome) == (
        CaseStatus.TIMEOUT,
        "the run stopped reporting progress: ended after this case's time limit of 2.5 s",
    )
    assert unreported(False, outcome) == (
        CaseStatus.NOT_RUN,
        "not run: the run stopped reporting progress before this case",
    )
