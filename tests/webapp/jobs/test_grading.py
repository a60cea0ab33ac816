"""Grading runs as plain logic: the atomic claim, storing a GradingResult only under a live
claim, failing and re-queueing, and which run a submission shows."""

from __future__ import annotations

import pytest

from grader.engine import SuiteError
from grader.job import CaseOutcome, CaseStatus, GradingJob, GradingResult, RunStatus
from grader.sandbox import SandboxError
from tests.conftest import run_of
from webapp.extensions import db
from webapp.jobs import grading, scheduling
from webapp.jobs.reference_bank import DatabaseReferenceBank
from webapp.models import RunState, Submission, utcnow
from webapp.submitting import request_regrade


def graded(score: float = 7.0, log: str = "", message: str = "done") -> GradingResult:
    return GradingResult(
        status=RunStatus.GRADED,
        score=score,
        max_score=10.0,
        message=message,
        log=log,
        timings={"total": 1.5, "cases": 1.0},
        cases=[
            CaseOutcome("double_small", 3, 3, CaseStatus.PASSED, "", 0.2),
            CaseOutcome("double_large", score - 3, 7, CaseStatus.FAILED, "max error 0.5", 0.8),
        ],
    )


def test_claim_is_exclusive(ctx, sub_id):
    """The first claim takes the run (attempt 1); a duplicate message finds nothing to claim."""
    claim = grading.claim_run(sub_id, worker="w1")
    assert claim is not None and claim.attempt == 1
    assert grading.claim_run(sub_id, worker="w2") is None
    run = run_of(sub_id)
    assert (run.status, run.worker, run.attempt) == (RunState.RUNNING, "w1", 1)
    assert run.started_at is not None


def test_build_job_carries_files_and_suite_but_no_fixed_draw(ctx, sub_id):
    """The job holds the submitted files and the run's suite package; the grader draws fresh
    inputs for the run (no seed fixed per suite version)."""
    claim = grading.claim_run(sub_id, worker="w1")
    job = grading.build_job(claim)
    run = run_of(sub_id)
    assert job.files == {"layers.py": b"def double(x):\n    return 2 * x\n"}
    assert job.package.sha256 == run.suite.sha256
    assert job.package.config.slug == "toy"
    assert job.draw is None and job.reference is None


def test_gpu_device_only_for_gpu_suites(ctx, make):
    """The worker's GPU is handed to GPU suites only; CPU suites never get a device."""
    alice = make.user("alice")
    cpu_sub = make.submission(alice, make.assignment("toy"))
    gpu_pkg = make.package(slug="vision", extra_toml='gpu = "preferred"')
    gpu_sub = make.submission(alice, make.assignment("vision", package=gpu_pkg))
    cpu_job = grading.build_job(grading.claim_run(cpu_sub, "w1"), gpu_device="GPU-1")
    gpu_job = grading.build_job(grading.claim_run(gpu_sub, "w1"), gpu_device="GPU-1")
    assert (cpu_job.gpu_device, gpu_job.gpu_device) == (None, "GPU-1")


def test_store_result_saves_score_cases_log_timings(ctx, sub_id):
    """A stored result makes the run graded with its cases in order."""
    claim = grading.claim_run(sub_id, worker="w1")
    assert grading.store_result(claim, graded(log="epoch 1\n")) is True
    run = run_of(sub_id)
    assert (run.status, run.score, run.max_score) == (RunState.GRADED, 7.0, 10.0)
    assert (run.log_tail, run.message) == ("epoch 1\n", "done")
    # the grader's phases, with the worker's own: sent -> claimed, and storing the result
    assert set(run.timings) == {"total", "cases", "queue_wait", "store"}
    assert (run.timings["total"], run.timings["cases"]) == (1.5, 1.0)
    assert run.timings["queue_wait"] >= 0 and run.timings["store"] > 0
    assert [(c.name, c.points, c.max_points, c.status) for c in run.cases] == [
        ("double_small", 3.0, 3.0, "passed"),
        ("double_large", 4.0, 7.0, "failed"),
    ]
    assert run.finished_at is not None


def test_result_of_a_lost_claim_is_dropped(ctx, sub_id):
    """When the reconciler gave the run to another worker, the first worker's result is dropped."""
    first = grading.claim_run(sub_id, worker="w1")
    assert grading.requeue_run(first)
    second = grading.claim_run(sub_id, worker="w2")
    assert second.attempt == 2
    assert grading.store_result(first, graded(score=10)) is False
    assert grading.store_result(second, graded(score=5)) is True
    run = run_of(sub_id)
    assert (run.score, run.worker, len(run.cases)) == (5.0, "w2", 2)


def test_failed_result_keeps_no_score(ctx, sub_id):
    """An infrastructure failure reported by the grader ends the run failed, without a score."""
    claim = grading.claim_run(sub_id, worker="w1")
    result = GradingResult(status=RunStatus.FAILED, score=0, max_score=10, message="container died")
    grading.store_result(claim, result)
    run = run_of(sub_id)
    assert (run.status, run.score, run.message) == (RunState.FAILED, None, "container died")


def test_text_is_made_storable(ctx, sub_id):
    """NUL characters (refused by PostgreSQL) are replaced and the log keeps only its tail."""
    claim = grading.claim_run(sub_id, worker="w1")
    log = "a\x00b" + "x" * (grading.LOG_TAIL_MAX_CHARS + 10) + "END"
    grading.store_result(claim, graded(log=log, message="bad\x00byte"))
    run = run_of(sub_id)
    assert run.message == "bad\ufffdbyte"
    assert len(run.log_tail) == grading.LOG_TAIL_MAX_CHARS and run.log_tail.endswith("END")


def test_case_detail_output_and_visibility_are_stored(ctx, sub_id):
    """Each case keeps its exception text, its prints (tails, NUL-free, capped) and its
    visibility; a visibility the web side does not know is stored as hidden."""
    claim = grading.claim_run(sub_id, worker="w1")
    prints = "p\x00" + "y" * grading.OUTPUT_MAX_CHARS + "LAST"
    cases = [
        CaseOutcome("a", 0, 3, CaseStatus.ERROR, "", 0.1, "ValueError: boom", prints, "hidden"),
        CaseOutcome("b", 0, 7, CaseStatus.ERROR, "", 0.1, "x" * 5000, "", "nonsense"),
    ]
    result = GradingResult(RunStatus.GRADED, 0.0, 10.0, cases, log="harness log")
    grading.store_result(claim, result)
    first, second = run_of(sub_id).cases
    assert (first.detail, first.visibility) == ("ValueError: boom", "hidden")
    assert len(first.output) == grading.OUTPUT_MAX_CHARS and first.output.endswith("LAST")
    assert "\x00" not in first.output
    assert (len(second.detail), second.visibility) == (grading.DETAIL_MAX_CHARS, "hidden")
    assert run_of(sub_id).log_tail == "harness log"


def test_regrade_keeps_old_result_until_new_one(ctx, sub_id):
    """A regrade adds a queued run: status follows it, the shown score stays the old one."""
    grading.store_result(grading.claim_run(sub_id, worker="w1"), graded(score=4))
    submission = db.session.get_one(Submission, sub_id)
    request_regrade(submission)
    submission = run_of(sub_id).submission
    assert submission.status is RunState.QUEUED
    assert submission.result_run.score == 4.0
    assert request_regrade(submission).id == submission.latest_run.id  # no pile-up
    claim = grading.claim_run(sub_id, worker="w1")
    grading.fail_run(claim, "sandbox gone")
    submission = run_of(sub_id).submission
    assert (submission.status, submission.result_run.score) == (RunState.FAILED, 4.0)
    assert submission.message == "sandbox gone"
    request_regrade(submission)
    grading.store_result(grading.claim_run(sub_id, worker="w1"), graded(score=9))
    submission = run_of(sub_id).submission
    assert (submission.status, submission.result_run.score, len(submission.runs)) == (
        RunState.GRADED,
        9.0,
        3,
    )


def raising(exc: Exception):
    def grade(job: GradingJob) -> GradingResult:
        raise exc

    return grade


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (SuiteError("reference fails case x"), grading.SUITE_BROKEN_MESSAGE),
        (ZeroDivisionError("bug"), grading.INTERNAL_ERROR_MESSAGE),
    ],
)
def test_grading_errors_fail_the_run(ctx, sub_id, exc, message):
    """A broken suite or an unexpected exception ends the run failed, never stuck running."""
    claim = grading.claim_run(sub_id, worker="w1")
    assert grading.grade_claimed(claim, raising(exc)) is grading.Outcome.FAILED
    run = run_of(sub_id)
    assert (run.status, run.message) == (RunState.FAILED, message)


def test_sandbox_error_requeues_with_backoff_then_fails(ctx, sub_id):
    """Docker trouble puts the run back in the queue, claimable only after its backoff, while
    retries remain (SANDBOX_RETRIES), then fails it."""
    for attempt in range(1, grading.SANDBOX_RETRIES + 1):
        claim = grading.claim_run(sub_id, worker="w1")
        assert claim.attempt == attempt
        before = utcnow()
        outcome = grading.grade_claimed(claim, raising(SandboxError("no docker")))
        assert outcome is grading.Outcome.RETRY
        run = run_of(sub_id)
        assert run.status is RunState.QUEUED
        backoff = (run.enqueued_at - before).total_seconds()
        assert backoff == pytest.approx(grading.retry_delay_s(attempt), abs=2)
        assert scheduling.claimable("cpu") == []  # not before its backoff
    assert [grading.retry_delay_s(a) for a in (1, 2, 3, 4)] == [30, 60, 120, 240]
    claim = grading.claim_run(sub_id, worker="w1")
    outcome = grading.grade_claimed(claim, raising(SandboxError("no docker")))
    assert outcome is grading.Outcome.FAILED
    run = run_of(sub_id)
    assert (run.status, run.message, run.attempt) == (
        RunState.FAILED,
        grading.SANDBOX_DOWN_MESSAGE,
        grading.SANDBOX_RETRIES + 1,
    )


def test_grade_claimed_stores_the_result(ctx, sub_id):
    """The grade function's result is stored for the claimed run."""
    claim = grading.claim_run(sub_id, worker="w1")
    outcome = grading.grade_claimed(claim, lambda job: graded(score=8))
    assert outcome is grading.Outcome.STORED
    assert run_of(sub_id).score == 8.0


def test_reference_bank_hands_each_entry_out_once(ctx):
    """Entries come back oldest first, each exactly once, only under their own key."""
    bank = DatabaseReferenceBank()
    key, other = "ab" * 32 + ":cpu:h1", "ab" * 32 + ":cuda:h1"
    assert bank.take(key) is None
    bank.add(key, b"first")
    bank.add(key, b"second")
    bank.add(other, b"gpu")
    assert bank.size(key) == 2
    assert [bank.take(key), bank.take(key), bank.take(key)] == [b"first", b"second", None]
    assert bank.take(other) == b"gpu" and bank.size(other) == 0
