"""Celery wired the Pallets way: one Celery app per Flask app, tasks run in its app context."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask
from kombu import Queue

QUEUES = ("cpu", "gpu")
TASK_HARD_LIMIT_S = 30 * 60  # kill a grading task outright; the sandbox's own limits are lower
TASK_SOFT_LIMIT_S = 25 * 60
RECONCILE_EVERY_S = 15.0  # a dead worker's runs go back to the queue this soon


def celery_config(flask_app: Flask) -> dict:
    """Celery settings: Redis broker, JSON only, late acks, one task at a time per process."""
    return {
        "broker_url": flask_app.config["REDIS_URL"],
        "broker_connection_timeout": 3,
        "broker_connection_retry_on_startup": True,
        # Redis redelivers unacked tasks after the visibility timeout: keep it past the hard
        # limit so a long run is not handed to a second worker while the first still works.
        "broker_transport_options": {
            "visibility_timeout": TASK_HARD_LIMIT_S + 600,
            "socket_connect_timeout": 3,
            "socket_timeout": 10,
        },
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0.2},
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,  # the database row is the result
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_queues": [Queue(name) for name in QUEUES],
        "task_default_queue": "cpu",
        "task_time_limit": TASK_HARD_LIMIT_S,
        "task_soft_time_limit": TASK_SOFT_LIMIT_S,
        "beat_schedule": {
            "reconcile-grading-runs": {
                "task": "webapp.reconcile",
                "schedule": RECONCILE_EVERY_S,
                "options": {"queue": "cpu", "expires": RECONCILE_EVERY_S},
            }
        },
        "timezone": "UTC",
    }


def celery_init_app(flask_app: Flask) -> Celery:
    """Create the Celery app for `flask_app`, store it in app.extensions["celery"]."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(flask_app.name, task_cls=FlaskTask)
    celery_app.config_from_object({**celery_config(flask_app), **flask_app.config["CELERY"]})
    celery_app.set_default()
    flask_app.extensions["celery"] = celery_app
    return celery_app
