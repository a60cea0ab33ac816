"""The worker side: everything that runs, schedules, recovers and watches jobs.

What the web side imports from here is small on purpose: `enqueue` (send work: a grading turn,
a self-check, a bank fill) and read-only views of where work stands (`routing.queue_info` for
a queued run's position and wait, `liveness.current_case` for a running one, `fleet.fleet` and
the reconciler's `is_lost`/`is_stale`/`stuck_runs` for the operations page), plus
`reconcile.requeue_and_enqueue`, staff's one-click re-queue. This file imports nothing, so
`import webapp.jobs.enqueue` does not pull in the grader, Docker or the reconciler; the
Celery tasks (and with them the grading engine) are imported by the worker's entry point
only, never by the web app.

    celery_app   the Celery app per Flask app, queues, limits, beat schedule
    worker       the `celery -A webapp.jobs.worker` entry point (heartbeats, warm sandboxes)
    enqueue      sending tasks through the Flask app's own Celery app
    tasks        the Celery tasks: thin glue over the modules below
    lifecycle    one fenced compare-and-set for every kind of job (runs, self-checks)
    scheduling   fair turns: which queued run a worker claims next (fenced claims)
    grading      claim -> grade -> store, retries and failures of one run
    routing      a run's queue and device (one function), position and expected wait
    reconcile    recovery: lost and stranded runs go back to a queue, dead ones fail
    selfchecks   the worker half of suite self-checks (claim, run, record, recover)
    liveness     run heartbeats, and the case now running
    fleet        worker heartbeats, GPU pool, who is alive
    sandboxes    the Docker sandboxes a worker process keeps (warm pool, labels, orphans)
    reference_bank  idle-time reference outputs, stored in the database
"""
