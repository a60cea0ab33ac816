"""Celery tasks: thin glue that loads ids, calls the modules of webapp.jobs, enqueues."""

from __future__ import annotations

import dataclasses
import logging
import socket
from functools import partial

import redis
from celery import Task, shared_task
from flask import current_app

from grader import GPU_LEASE_LABEL, GradingJob, GradingResult, grade
from webapp.extensions import db
from webapp.jobs import grading, scheduling
from webapp.jobs.celery_app import QUEUES
from webapp.jobs.enqueue import enqueue_bank_fill, enqueue_grading
from webapp.jobs.fleet import alive_workers, gpu_pool, redis_client
from webapp.jobs.liveness import RunHeartbeat
from webapp.jobs.reconcile import reconcile_and_enqueue
from webapp.jobs.reference_bank import DatabaseReferenceBank, fill_while_idle
from webapp.jobs.routing import route
from webapp.jobs.sandboxes import (
    WORKER_LABEL,
    docker_sandbox,
    remove_orphans,
    run_labels,
    warm_sandbox,
)
from webapp.jobs.selfchecks import run_queued
from webapp.models import Submission

log = logging.getLogger(__name__)

GPU_LEASE_WAIT_S = 60.0  # a run that finds every GPU busy waits this long, then is retried
BANK_FILL_BUDGET = 8  # references one fill task computes at most (it stops once a run waits)


def send_turn_if_waiting(queue: str, hint: int) -> bool:
    """After a run ends: send a turn on `queue` when a run there may be claimed now (one the
    per-student cap held back while this run was graded); True when one was sent."""
    return bool(scheduling.claimable(queue)) and enqueue_grading(hint, queue)


def _grade_in_docker(
    job: GradingJob, gpu_lease: str | None = None, labels: dict[str, str] | None = None
) -> GradingResult:
    """The real grader: Docker sandboxes and the database-backed reference bank. Under a GPU
    lease, the sandboxes carry the lease's label, and leftovers of a dead worker that held the
    same lease are removed first."""
    labels = {**(labels or {}), **({GPU_LEASE_LABEL: gpu_lease} if gpu_lease else {})}
    if gpu_lease is None and WORKER_LABEL in labels:  # CPU runs: warm containers (grader.warm)
        return grade(job, warm_sandbox(labels[WORKER_LABEL]), DatabaseReferenceBank())
    sandbox = docker_sandbox(labels=labels)
    if gpu_lease and (removed := sandbox.remove_leftovers(gpu_lease)):
        log.warning("removed %d sandbox(es) a dead worker left on GPU %s", removed, gpu_lease)
    return grade(job, sandbox, DatabaseReferenceBank())


def _grade_on_leased_gpu(job: GradingJob, labels: dict[str, str] | None = None) -> GradingResult:
    """Grade `job`; a suite that uses a GPU runs on one this worker leases for the run (no
    GPU here: on the CPU). No free GPU within GPU_LEASE_WAIT_S raises NoFreeGpu, a
    SandboxError, so the run is retried later."""
    pool = gpu_pool()
    if not route(job.package.config.gpu).uses_gpu or not pool.devices:
        return _grade_in_docker(job, labels=labels)
    with pool.leased(wait_s=GPU_LEASE_WAIT_S) as lease:
        leased = dataclasses.replace(job, gpu_device=lease.device, gpu_shared=lease.shared)
        return _grade_in_docker(leased, lease.key, labels)


@shared_task(bind=True, name="webapp.grade_submission")
def grade_submission(self: Task, submission_id: int) -> str:
    """A turn on the queue the message came from: claim the next run in fair order
    (webapp.jobs.scheduling), grade it under a run heartbeat (webapp.jobs.liveness), store how it
    ended; then pass a turn on if a run the per-student cap held back may go now."""
    queue = turn_queue(self.request.delivery_info, submission_id)
    worker = self.request.hostname or socket.gethostname()
    claim = scheduling.claim_next(queue, worker)
    if claim is None:
        return "nothing to claim"
    with RunHeartbeat(current_app.config["REDIS_URL"], claim) as beat:
        labels = run_labels(worker, claim.run_id)
        grade = partial(_grade_on_leased_gpu, labels=labels)
        outcome = grading.grade_claimed(claim, grade, on_case=beat.case_started)
    if outcome is grading.Outcome.RETRY:  # its own turn comes back after the backoff
        enqueue_grading(submission_id, queue, countdown=grading.retry_delay_s(claim.attempt))
    send_turn_if_waiting(queue, submission_id)
    return outcome.value


def turn_queue(delivery_info: dict | None, submission_id: int) -> str:
    """The queue a turn was taken from: the broker's routing key (the queue's name), else the
    queue of the hinted submission's latest run, else cpu."""
    routing_key = (delivery_info or {}).get("routing_key")
    if routing_key in QUEUES:
        return routing_key
    submission = db.session.get(Submission, submission_id)
    latest = submission.latest_run if submission is not None else None
    return latest.queue if latest is not None else "cpu"


def remove_orphaned_sandboxes() -> int:
    """Remove sandboxes on this host's engine whose worker has no live heartbeat (only after
    the heartbeats were read: a Redis that does not answer says nothing about who is alive)."""
    client = redis_client(current_app.config["REDIS_URL"])
    try:
        live = {worker.name for worker in alive_workers(client)}
    except redis.RedisError:
        log.warning("heartbeats unreadable: orphaned sandboxes are left for a later pass")
        return 0
    finally:
        client.close()
    return remove_orphans(live)


@shared_task(name="webapp.fill_reference_bank")
def fill_reference_bank() -> int:
    """Idle-time work: precompute references for fresh draws of the published suites, so a
    grading run takes one instead of running the solution alongside the student's code."""
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
    remove_orphaned_sandboxes()
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
    return run_queued(suite_id, current_app.config["SANDBOX_IMAGE"])
