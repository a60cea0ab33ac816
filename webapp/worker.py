"""Celery entry point: `celery -A webapp.worker worker -Q cpu` (or `-Q gpu`, or `beat`).

Workers started from here keep a heartbeat in Redis and refuse `-Q gpu` without a GPU
(webapp.fleet)."""

from webapp import create_app
from webapp.fleet import presence_step

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
celery_app.steps["worker"].add(presence_step(flask_app))
