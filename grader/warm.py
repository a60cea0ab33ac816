"""Warm single-use sandboxes: containers started ahead of time, each used for exactly one run.

A cold run pays for `docker create`, attach, start, the interpreter's start and the preload
imports (`import torch` is 1.5-2 s) before its first case. WarmDockerSandbox keeps, per
container spec (image, limits, GPU, preload, labels: everything `container_spec` decides), up
to `size` containers that are already started and attached, their bootstrap waiting on stdin
with the preload modules imported. A run takes one, sends its bundle and reads it to the end
exactly as a cold run does; the container is then removed in the background, and a
replacement is started: neither is on the run's critical path. An empty pool falls back to a
cold start.

What keeps runs apart is unchanged: one container per run, never returned to the pool, never
shared between runs or students. A waiting container has received nothing: no bundle, no key,
no submitted code; its limits (wall clock, progress watchdog) start when its run sends the
bundle. One that wrote anything or closed its stream while waiting, or waited longer than
MAX_IDLE_S (an image rebuilt since), is removed, not used.
"""

from __future__ import annotations

import json
import logging
import select
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import docker

from grader.job import Limits
from grader.sandbox import (
    DOCKER_ERRORS,
    DockerSandbox,
    SandboxError,
    Started,
)

log = logging.getLogger(__name__)

MAX_IDLE_S = 300.0  # a container waiting longer is replaced (e.g. by one of a rebuilt image)
MAX_SPECS = 4  # kinds of container kept warm at once (assignments x environments); LRU


class WarmDockerSandbox(DockerSandbox):
    """A DockerSandbox that keeps `size` started containers ready per spec it has run. A
    worker process grades one run at a time (Celery prefork), so 1 keeps the next run of
    the same kind warm; size it to the runs one process has in flight."""

    def __init__(self, *args, size: int = 1, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.size = max(0, size)
        self._lock = threading.Lock()
        self._ready: OrderedDict[str, list[tuple[Started, float]]] = OrderedDict()
        self._pending: dict[str, int] = {}
        self._filler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warm-sandbox")
        # used containers are removed here, after their run has returned its output
        self._remover = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-removal")
        self.taken = 0  # runs that got a warm container
        self.cold = 0  # runs that started their own

    def warm_up(
        self,
        limits: Limits,
        gpu_device: str | None = None,
        environment: str = "torch",
        preload: tuple[str, ...] = (),
    ) -> None:
        """Start filling the pool for runs of this kind (e.g. when a worker starts)."""
        spec, image = self.spec(limits, gpu_device, environment, preload)
        self._refill(self._key(spec), spec, image)

    def acquire(self, client: docker.DockerClient, spec: dict, image: str) -> Started:
        key = self._key(spec)
        began = time.monotonic()
        warm = self._take(key)
        self._refill(key, spec, image)
        if warm is None:
            self.cold += 1
            return super().acquire(client, spec, image)
        self.taken += 1
        warm.acquire_s = time.monotonic() - began
        return warm

    def dispose(self, container) -> None:
        """Remove a used container in the background: its run's result does not wait for it.
        close() waits for every removal."""
        try:
            self._remover.submit(self._remove_now, container)
        except RuntimeError:  # closed: remove it here
            self._remove_now(container)

    def _remove_now(self, container) -> None:
        try:
            DockerSandbox.dispose(self, container)
        except SandboxError:
            log.warning("could not remove a used sandbox", exc_info=True)

    def close(self) -> None:
        """Remove every waiting container and finish every removal, then close the client."""
        self._filler.shutdown(wait=True, cancel_futures=True)
        self._remover.shutdown(wait=True)
        with self._lock:
            waiting = [started for entries in self._ready.values() for started, _ in entries]
            self._ready.clear()
        for started in waiting:
            self._discard(started)
        super().close()

    def waiting(self) -> int:
        """Containers ready now, all specs together."""
        with self._lock:
            return sum(len(entries) for entries in self._ready.values())

    # ------------------------------------------------------------------ the pool

    @staticmethod
    def _key(spec: dict) -> str:
        return json.dumps(spec, sort_keys=True, default=repr)

    def _take(self, key: str) -> Started | None:
        """A waiting container of this spec that is still fit to use, or None."""
        while True:
            with self._lock:
                entries = self._ready.get(key)
                if not entries:
                    return None
                started, born = entries.pop(0)
                self._ready.move_to_end(key)
            if time.monotonic() - born <= MAX_IDLE_S and _untouched(started):
                return started
            self._discard(started)

    def _refill(self, key: str, spec: dict, image: str) -> None:
        """Start containers in the background until `size` wait for this spec."""
        with self._lock:
            have = len(self._ready.get(key, ())) + self._pending.get(key, 0)
            missing = self.size - have
            if missing <= 0:
                return
            self._pending[key] = self._pending.get(key, 0) + missing
        for _ in range(missing):
            try:
                self._filler.submit(self._start_one, key, spec, image)
            except RuntimeError:  # closed meanwhile
                self._done_pending(key)

    def _start_one(self, key: str, spec: dict, image: str) -> None:
        try:
            started = DockerSandbox.acquire(self, self.client(), spec, image)
        except (SandboxError, *DOCKER_ERRORS):
            log.warning("could not start a warm sandbox; runs start their own", exc_info=True)
            self._done_pending(key)
            return
        with self._lock:
            self._pending[key] = max(0, self._pending.get(key, 0) - 1)
            self._ready.setdefault(key, []).append((started, time.monotonic()))
            self._ready.move_to_end(key)
            evicted = []
            while len(self._ready) > MAX_SPECS:
                _, entries = self._ready.popitem(last=False)
                evicted += [s for s, _ in entries]
        for old in evicted:
            self._discard(old)

    def _done_pending(self, key: str) -> None:
        with self._lock:
            self._pending[key] = max(0, self._pending.get(key, 0) - 1)

    def _discard(self, started: Started) -> None:
        started.close()
        self._remove_now(started.container)


def _untouched(started: Started) -> bool:
    """Its bootstrap is still waiting: nothing to read on its stream (no output, no EOF)."""
    try:
        readable, _, _ = select.select([started.sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable
