"""Celery entry point: `celery -A webapp.jobs.worker worker -Q cpu` (or `-Q gpu`, or `beat`).

Workers started from here keep a heartbeat in Redis and refuse `-Q gpu` without a GPU
(webapp.jobs.fleet)."""

from celery.signals import worker_process_shutdown

from webapp import create_app
from webapp.jobs import tasks  # noqa: F401 - registers the Celery tasks
from webapp.jobs.fleet import presence_step
from webapp.jobs.sandboxes import close_warm_sandboxes

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
celery_app.steps["worker"].add(presence_step(flask_app))


@worker_process_shutdown.connect
def _remove_warm_sandboxes(**_kwargs) -> None:
    """A pool process ending removes the containers it kept warm (a killed one leaves them
    to remove_orphans)."""
    close_warm_sandboxes()
