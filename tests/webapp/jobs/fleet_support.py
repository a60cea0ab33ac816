"""Worker heartbeats for the web tests: a Redis database of their own, written the way a
worker writes them (webapp.jobs.fleet.publish), cleared before and after each test."""

from __future__ import annotations

from collections.abc import Iterator

import redis

from tests.conftest import REDIS_URL
from webapp.jobs.fleet import KEY_PREFIX, WorkerInfo, publish

FLEET_REDIS_URL = REDIS_URL.rsplit("/", 1)[0] + "/12"
BROKER_KEYS = ("cpu", "gpu", "cpu\x06\x163", "gpu\x06\x163")


class Heartbeats:
    """Publish and clear heartbeats (and queue lists) in FLEET_REDIS_URL."""

    def __init__(self) -> None:
        self.client = redis.Redis.from_url(FLEET_REDIS_URL, socket_timeout=5)

    def add(
        self, name: str, queues: tuple[str, ...], gpus: tuple[str, ...] = (), concurrency: int = 1
    ) -> WorkerInfo:
        info = WorkerInfo(name, list(queues), list(gpus), concurrency, host="testhost", pid=1)
        publish(self.client, info)
        return info

    def clear(self) -> None:
        keys = list(self.client.scan_iter(match=KEY_PREFIX + "*")) + list(BROKER_KEYS)
        self.client.delete(*keys)


def heartbeats() -> Iterator[Heartbeats]:
    beats = Heartbeats()
    beats.clear()
    yield beats
    beats.clear()
    beats.client.close()
