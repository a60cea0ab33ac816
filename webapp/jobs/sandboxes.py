"""The worker's Docker sandboxes: built from the app's settings (one place names the images),
labelled with the worker and run they belong to, and removed once that worker is gone."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from datetime import UTC, datetime, timedelta

import docker
import docker.errors
from flask import current_app

from grader import DOCKER_ERRORS, DockerSandbox, WarmDockerSandbox

log = logging.getLogger(__name__)

WORKER_LABEL = "dlgrader.worker"  # the Celery worker (node name) that started the sandbox
RUN_LABEL = "dlgrader.run"  # the grading run it belongs to
ORPHAN_AFTER = timedelta(minutes=1)  # younger sandboxes are never taken for orphans


def docker_sandbox(image: str | None = None, labels: dict[str, str] | None = None) -> DockerSandbox:
    """A DockerSandbox with the configured images ("torch": `image` or SANDBOX_IMAGE)."""
    return DockerSandbox(**_images(image), labels=labels)


def _images(image: str | None = None) -> dict[str, str]:
    """The configured sandbox images ("torch": `image` or SANDBOX_IMAGE; "numpy")."""
    config = current_app.config
    return {
        "image": image or config["SANDBOX_IMAGE"],
        "numpy_image": config["SANDBOX_NUMPY_IMAGE"],
    }


_warm_lock = threading.Lock()
_warm: dict[tuple, WarmDockerSandbox] = {}  # this process's pools, by (pid, worker, images)


def warm_sandbox(worker: str) -> DockerSandbox:
    """This worker process's sandbox that keeps SANDBOX_WARM containers started per kind of
    run (grader.warm); a cold DockerSandbox when SANDBOX_WARM is 0. Its containers carry the
    worker's label only (they exist before their run), so remove_orphans finds those of a
    dead worker. One per process: a forked child never inherits its parent's pool."""
    config = current_app.config
    size = int(config.get("SANDBOX_WARM", 0))
    if size <= 0:
        return docker_sandbox(labels={WORKER_LABEL: worker})
    images = _images()
    key = (os.getpid(), worker, *images.values())
    with _warm_lock:
        if key not in _warm:
            _warm[key] = WarmDockerSandbox(
                **images,
                labels={WORKER_LABEL: worker},
                size=size,
            )
        return _warm[key]


def close_warm_sandboxes() -> None:
    """Remove this process's waiting containers (a worker process shutting down)."""
    with _warm_lock:
        mine = [box for (pid, *_), box in _warm.items() if pid == os.getpid()]
        _warm.clear()
    for box in mine:
        box.close()


def run_labels(worker: str, run_id: int) -> dict[str, str]:
    """The labels of a grading run's sandboxes."""
    return {WORKER_LABEL: worker, RUN_LABEL: str(run_id)}


def remove_orphans(live_workers: set[str], now: datetime | None = None) -> int:
    """Remove the sandboxes (running or exited) that a worker no longer alive left on this
    host's engine: a worker killed with `kill -9` removes nothing, and its containers would
    run to their wall limit and then stay. How many were removed; 0 when Docker is down.

    `live_workers` must come from a successful read of the heartbeats: an empty set read from
    a Redis that did not answer would take every live worker's sandboxes for orphans."""
    now = now or datetime.now(UTC)
    removed = 0
    try:
        client = docker.from_env(timeout=30)
    except docker.errors.DockerException:
        log.warning("cannot reach Docker to remove orphaned sandboxes")
        return 0
    try:
        for container in client.containers.list(all=True, filters={"label": WORKER_LABEL}):
            owner = container.labels.get(WORKER_LABEL, "")
            created = _created(container.attrs.get("Created", ""))
            if owner in live_workers or created is None or now - created < ORPHAN_AFTER:
                continue
            with contextlib.suppress(docker.errors.NotFound):  # its worker removed it after all
                container.remove(force=True)
                removed += 1
    except DOCKER_ERRORS:
        log.warning("could not remove orphaned sandboxes", exc_info=True)
    finally:
        client.close()
    if removed:
        log.warning("removed %d sandbox(es) left by workers that are gone", removed)
    return removed


def _created(raw: str) -> datetime | None:
    """Docker's Created time ('2026-11-30T13:52:57.123456789Z'); None if unreadable."""
    try:
        return datetime.fromisoformat(raw[:26].rstrip("Z") + "+00:00")
    except ValueError:
        return None
