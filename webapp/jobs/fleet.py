"""The grading fleet: which workers are alive, on which queues, with which GPUs.

Each worker's main process keeps a heartbeat key in Redis, `dlgrader:worker:<name>`, holding
its queues, GPUs and concurrency, rewritten every HEARTBEAT_EVERY_S with a TTL of
HEARTBEAT_TTL_S by a thread that a Celery bootstep starts. A clean shutdown deletes the key;
a crashed or cut-off worker's key expires by itself. Redis owns the expiry, so no two hosts'
clocks are ever compared. Routing (webapp.jobs.routing) and the operations page read the keys.

The same bootstep refuses to start a worker that would consume the gpu queue without a GPU, or
one that would let runs share a GPU (GRADER_GPU_SHARING > 1) without GRADER_GPU_SHARING_UNSAFE=1
(grader/gpus.py says why sharing is unsafe).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

import redis
from celery import bootsteps
from flask import Flask, current_app

from grader import SHARING_UNSAFE, GpuPool, UnsafeGpuSharing, check_sharing_allowed, pool_from_env

log = logging.getLogger(__name__)

KEY_PREFIX = "dlgrader:worker:"
HEARTBEAT_EVERY_S = 10.0
HEARTBEAT_TTL_S = 30  # three missed beats and the worker counts as gone
REDIS_TIMEOUT_S = 2.0
GPU_QUEUE = "gpu"
ALLOW_GPU_QUEUE_WITHOUT_GPU = "GRADER_ALLOW_GPU_QUEUE_WITHOUT_GPU"
GPU_SETTINGS = ("GRADER_GPUS", "GRADER_GPU_SHARING", "GRADER_GPU_LOCK_DIR")


class WorkerConfigError(SystemExit):
    """The worker must not start as configured; the message says how to fix it."""


@dataclass
class WorkerInfo:
    """One live worker as its heartbeat describes it."""

    name: str
    queues: list[str]
    gpus: list[str] = field(default_factory=list)
    concurrency: int = 1
    host: str = ""
    pid: int = 0
    age_s: float | None = None  # seconds since the last beat (None: not read back from Redis)

    def consumes(self, queue: str) -> bool:
        return queue in self.queues


KNOWN_FIELDS = frozenset(WorkerInfo.__dataclass_fields__) - {"age_s"}


def redis_client(url: str) -> redis.Redis:
    """A client with short timeouts: a dead Redis must not hang a page or a worker."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
    )


def publish(client: redis.Redis, info: WorkerInfo, ttl_s: int = HEARTBEAT_TTL_S) -> None:
    """Write (or refresh) the worker's heartbeat key."""
    payload = {k: v for k, v in asdict(info).items() if k != "age_s"}
    client.set(KEY_PREFIX + info.name, json.dumps(payload), ex=ttl_s)


def withdraw(client: redis.Redis, name: str) -> None:
    """Delete the worker's heartbeat (a clean shutdown)."""
    client.delete(KEY_PREFIX + name)


def alive_workers(client: redis.Redis) -> list[WorkerInfo]:
    """Every worker with a live heartbeat, by name; unreadable entries are skipped."""
    keys = sorted(client.scan_iter(match=KEY_PREFIX + "*", count=200))
    if not keys:
        return []
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.get(key)
        pipe.ttl(key)
    replies = pipe.execute()
    workers = []
    for raw, ttl in zip(replies[::2], replies[1::2], strict=True):
        info = _parse(raw, ttl)
        if info is not None:
            workers.append(info)
    return workers


def _parse(raw: bytes | None, ttl: int) -> WorkerInfo | None:
    if raw is None:  # expired between SCAN and GET
        return None
    try:
        data: dict[str, Any] = json.loads(raw)
        # Unknown keys are ignored: hosts mid-upgrade may write a newer heartbeat.
        info = WorkerInfo(**{k: v for k, v in data.items() if k in KNOWN_FIELDS})
    except (ValueError, TypeError, AttributeError):
        return None
    info.age_s = float(max(0, HEARTBEAT_TTL_S - ttl)) if ttl >= 0 else None
    return info


def fleet(app: Flask | None = None) -> list[WorkerInfo]:
    """Live workers from the app's Redis; empty (logged) when Redis does not answer."""
    app = app or current_app
    client = redis_client(app.config["REDIS_URL"])
    try:
        return alive_workers(client)
    except redis.RedisError:
        log.warning("cannot read worker heartbeats from Redis", exc_info=True)
        return []
    finally:
        client.close()


def gpu_pool(app: Flask | None = None) -> GpuPool:
    """This process's GPU pool (GRADER_GPUS or nvidia-smi; sharing; lock directory), built once
    per app: discovery may run nvidia-smi."""
    app = app or current_app
    if "gpu_pool" not in app.extensions:
        settings = {k: str(app.config[k]) for k in GPU_SETTINGS if app.config.get(k) is not None}
        app.extensions["gpu_pool"] = pool_from_env(settings)
    return app.extensions["gpu_pool"]


def check_can_consume(queues: set[str], gpus: list[str], env: dict[str, str]) -> None:
    """Raise WorkerConfigError when a worker without GPUs would consume the gpu queue."""
    if GPU_QUEUE in queues and not gpus and env.get(ALLOW_GPU_QUEUE_WITHOUT_GPU) != "1":
        raise WorkerConfigError(
            "this worker consumes the gpu queue but has no GPU: set GRADER_GPUS (e.g. 0,1) on "
            "a GPU host, or start it with -Q cpu"
        )


def check_gpu_sharing(pool: GpuPool, env: dict[str, str]) -> None:
    """Raise WorkerConfigError when runs would share this worker's GPUs (sharing > 1) without
    the explicit opt-in GRADER_GPU_SHARING_UNSAFE=1: the per-run GPU memory cap is advisory."""
    try:
        check_sharing_allowed(pool.sharing, pool.devices, env)
    except UnsafeGpuSharing as exc:
        raise WorkerConfigError(str(exc)) from exc


def _sharing_env(flask_app: Flask) -> dict[str, str]:
    """The process environment, with the opt-in from the app's config when it sets one."""
    env = dict(os.environ)
    if flask_app.config.get(SHARING_UNSAFE) is not None:
        env[SHARING_UNSAFE] = str(flask_app.config[SHARING_UNSAFE])
    return env


class Heartbeat:
    """A daemon thread that publishes `info` until stop() (which withdraws it)."""

    def __init__(self, url: str, info: WorkerInfo, every_s: float = HEARTBEAT_EVERY_S) -> None:
        self.client = redis_client(url)
        self.info = info
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dlgrader-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                publish(self.client, self.info)
            except redis.RedisError:
                log.warning("heartbeat not written (Redis); retrying", exc_info=True)
            if self._stop.wait(self.every_s):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=REDIS_TIMEOUT_S * 2)
        try:
            withdraw(self.client, self.info.name)
        except redis.RedisError:
            log.warning("heartbeat not withdrawn; it expires in %s s", HEARTBEAT_TTL_S)
        self.client.close()


def presence_step(flask_app: Flask) -> type[bootsteps.StartStopStep]:
    """A worker bootstep for `flask_app`: check the queues against the GPUs, then heartbeat."""

    class Presence(bootsteps.StartStopStep):
        label = "dlgrader presence"

        def __init__(self, worker: Any, **kwargs: Any) -> None:
            super().__init__(worker, **kwargs)
            self.queues = set(worker.app.amqp.queues.consume_from)
            pool = gpu_pool(flask_app)
            self.gpus = pool.devices
            check_can_consume(self.queues, self.gpus, dict(os.environ))
            check_gpu_sharing(pool, _sharing_env(flask_app))
            if GPU_QUEUE in self.queues and (worker.concurrency or 1) > max(1, pool.capacity):
                log.warning(
                    "concurrency %s is more than the %s GPU leases here: extra runs wait",
                    worker.concurrency,
                    pool.capacity,
                )
            self.heartbeat: Heartbeat | None = None

        def start(self, worker: Any) -> None:
            info = WorkerInfo(
                name=worker.hostname,
                queues=sorted(self.queues),
                gpus=list(self.gpus),
                concurrency=int(worker.concurrency or 1),
                host=socket.gethostname(),
                pid=os.getpid(),
            )
            self.heartbeat = Heartbeat(flask_app.config["REDIS_URL"], info)
            self.heartbeat.start()

        def stop(self, worker: Any) -> None:
            if self.heartbeat is not None:
                self.heartbeat.stop()
                self.heartbeat = None

    return Presence
