"""Celery tasks: thin glue that loads ids, calls webapp.grading / webapp.reconcile, enqueues."""

from __future__ import annotations

import dataclasses
import logging
import socket

from celery import Task, shared_task
from flask import current_app
from kombu.exceptions import OperationalError

from grader.job import GradingJob, GradingResult
from webapp import grading
from webapp.fleet import gpu_pool
from webapp.reconcile import ReconcileReport, reconcile, requeue_stuck

log = logging.getLogger(__name__)

SANDBOX_RETRIES = 4  # re-sends after a SandboxError before the run is failed
SANDBOX_RETRY_BASE_S = 30  # backoff: 30 s, 60 s, 120 s, 240 s
GPU_LEASE_WAIT_S = 60.0  # a run that finds every GPU busy waits this long, then is retried
BANK_FILL_BUDGET = 8  # references one fill task computes at most (it stops once a run waits)


def enqueue_grading(submission_id: int, queue: str) -> bool:
    """Send grade_submission for a committed submission; False (logged) if the broker is down:
    the run stays queued in the database and the reconciler sends it later."""
    try:
        grade_submission.apply_async(args=[submission_id], queue=queue)
    except OperationalError:
        log.exception("could not enqueue submission %s on %s", submission_id, queue)
        return False
    return True


def enqueue_selfcheck(suite_id: int) -> bool:
    """Send selfcheck_suite for a committed suite row (cpu queue); False (logged) if the broker
    is down: the row stays queued and the reconciler sends it again once it is stale."""
    try:
        selfcheck_suite.apply_async(args=[suite_id], queue="cpu")
    except OperationalError:
        log.exception("could not enqueue the self-check of suite %s", suite_id)
        return False
    return True


def _grade_in_docker(job: GradingJob, gpu_lease: str | None = None) -> GradingResult:
    """The real grader: Docker sandboxes and the database-backed reference bank. Under a GPU
    lease, the sandboxes carry the lease's label, and leftovers of a dead worker that held the
    same lease are removed first."""
    from grader.engine import grade
    from grader.sandbox import GPU_LEASE_LABEL
    from webapp.reference_bank import DatabaseReferenceBank
    from webapp.sandboxes import docker_sandbox

    labels = {GPU_LEASE_LABEL: gpu_lease} if gpu_lease else {}
    sandbox = docker_sandbox(labels=labels)
    if gpu_lease and (removed := sandbox.remove_leftovers(gpu_lease)):
        log.warning("removed %d sandbox(es) a dead worker left on GPU %s", removed, gpu_lease)
    return grade(job, sandbox, DatabaseReferenceBank())


def _grade_on_leased_gpu(job: GradingJob) -> GradingResult:
    """Grade `job`; a suite that uses a GPU runs on one this worker leases for the run (no
    GPU here: on the CPU). No free GPU within GPU_LEASE_WAIT_S raises NoFreeGpu, a
    SandboxError, so the run is retried later."""
    pool = gpu_pool()
    if job.package.config.gpu == "none" or not pool.devices:
        return _grade_in_docker(job)
    with pool.leased(wait_s=GPU_LEASE_WAIT_S) as lease:
        return _grade_in_docker(dataclasses.replace(job, gpu_device=lease.device), lease.key)


@shared_task(bind=True, name="webapp.grade_submission", max_retries=SANDBOX_RETRIES)
def grade_submission(self: Task, submission_id: int) -> str:
    """Grade the submission's queued run, if this worker wins the claim."""
    claim = grading.claim_run(submission_id, worker=self.request.hostname or socket.gethostname())
    if claim is None:
        return "nothing to claim"
    may_retry = self.request.retries < SANDBOX_RETRIES
    outcome = grading.grade_claimed(claim, _grade_on_leased_gpu, may_retry=may_retry)
    if outcome is grading.Outcome.RETRY:
        countdown = SANDBOX_RETRY_BASE_S * 2**self.request.retries
        raise self.retry(countdown=countdown, queue=grading.queue_of(claim))
    return outcome.value


def reconcile_and_enqueue() -> ReconcileReport:
    """Run the reconciler once and send what it found; used by beat and the CLI."""
    return send_report(reconcile())


def requeue_and_enqueue(run_id: int) -> ReconcileReport:
    """Re-queue one stuck run the reconciler's way and send it; used by the operations page."""
    return send_report(requeue_stuck(run_id))


def send_report(report: ReconcileReport) -> ReconcileReport:
    """Enqueue what a reconciler pass put back to queued (after its commit)."""
    for submission_id, queue in report.to_send:
        enqueue_grading(submission_id, queue)
    for suite_id in report.selfchecks_resent:
        enqueue_selfcheck(suite_id)
    return report


def enqueue_bank_fill() -> bool:
    """Send fill_reference_bank (cpu queue); False (logged) if the broker is down."""
    try:
        fill_reference_bank.apply_async(queue="cpu")
    except OperationalError:
        log.exception("could not enqueue the reference bank fill")
        return False
    return True


@shared_task(name="webapp.fill_reference_bank")
def fill_reference_bank() -> int:
    """Idle-time work: precompute references for fresh draws of the published suites, so a
    grading run takes one instead of running the solution alongside the student's code."""
    from webapp.reference_bank import fill_while_idle
    from webapp.sandboxes import docker_sandbox

    config = current_app.config
    sandbox = docker_sandbox()
    try:
        return fill_while_idle(config["REFERENCE_BANK_SIZE"], sandbox, BANK_FILL_BUDGET)
    finally:
        sandbox.close()


@shared_task(name="webapp.reconcile")
def reconcile_runs() -> dict[str, list[int]]:
    """Beat entry point: one reconciler pass, then a top-up of the reference bank."""
    report = reconcile_and_enqueue()
    enqueue_bank_fill()
    return {
        "resent": report.resent,
        "requeued": report.requeued,
        "failed": report.failed,
        "selfchecks_resent": report.selfchecks_resent,
        "selfchecks_failed": report.selfchecks_failed,
    }


@shared_task(name="webapp.selfcheck_suite")
def selfcheck_suite(suite_id: int) -> str:
    """Self-check a suite version (reference full, starter 0, mutants killed); record it."""
    from webapp.selfcheck import run_queued

    return run_queued(suite_id, current_app.config["SANDBOX_IMAGE"])
