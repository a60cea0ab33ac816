"""Run heartbeats: the worker process grading a run says so in Redis every few seconds.

While a run is graded, a thread in the process that claimed it rewrites the key
`dlgrader:run:<run id>` = `<attempt>` every RUN_BEAT_EVERY_S with a TTL of RUN_BEAT_TTL_S, and
deletes it when the run ends. A worker killed with `kill -9`, a pool process killed by the
time limit, a host that lost power or its network: the key expires by itself, and the
reconciler (webapp.jobs.reconcile) puts the run back to the queue on its next pass. Redis owns the
expiry, so no two hosts' clocks are compared.

The beat names the attempt: a run handed to another worker is beaten under the new attempt,
and the old worker, if it was only slow, cannot store its result (webapp.jobs.grading fences every
write on the attempt it claimed).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from types import TracebackType

import redis

from webapp.jobs.fleet import REDIS_TIMEOUT_S, redis_client
from webapp.jobs.scheduling import Claim

log = logging.getLogger(__name__)

RUN_KEY_PREFIX = "dlgrader:run:"
RUN_BEAT_EVERY_S = 5.0
RUN_BEAT_TTL_S = 20  # four missed beats and the run counts as abandoned
CASE_KEY_SUFFIX = ":case"  # `dlgrader:run:<id>:case` = the case the harness started last


def run_key(run_id: int) -> str:
    return f"{RUN_KEY_PREFIX}{run_id}"


def case_key(run_id: int) -> str:
    return run_key(run_id) + CASE_KEY_SUFFIX


class RunHeartbeat:
    """`with RunHeartbeat(url, claim):` keeps the claimed run's key alive for the block."""

    def __init__(self, url: str, claim: Claim, every_s: float = RUN_BEAT_EVERY_S) -> None:
        self.client = redis_client(url)
        self.claim = claim
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dlgrader-run-beat", daemon=True)

    def __enter__(self) -> RunHeartbeat:
        self._beat()  # before grading starts: the reconciler never sees the run unbeaten
        self._thread.start()
        return self

    def case_started(self, name: str) -> None:
        """Say which case the run is in now, for its live page (display only; best effort)."""
        try:
            self.client.set(case_key(self.claim.run_id), name, ex=RUN_BEAT_TTL_S * 3)
        except redis.RedisError:
            log.warning("run %s: current case not written (Redis)", self.claim.run_id)

    def _beat(self) -> None:
        try:
            self.client.set(run_key(self.claim.run_id), self.claim.attempt, ex=RUN_BEAT_TTL_S)
        except redis.RedisError:
            log.warning("run %s: heartbeat not written (Redis)", self.claim.run_id)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._beat()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=REDIS_TIMEOUT_S * 2)
        try:
            key = run_key(self.claim.run_id)
            if self.client.get(key) == str(self.claim.attempt).encode():
                self.client.delete(key, case_key(self.claim.run_id))
        except redis.RedisError:
            log.warning("run %s: heartbeat not withdrawn; it expires", self.claim.run_id)
        finally:
            self.client.close()


def current_case(url: str, run_id: int) -> str | None:
    """The case a running run is in now, as its worker last said; None when unknown."""
    client = redis_client(url)
    try:
        raw = client.get(case_key(run_id))
    except redis.RedisError:
        return None
    finally:
        client.close()
    return raw.decode("utf-8", errors="replace") if raw else None


def beating(url: str, run_ids: Iterable[int]) -> dict[int, int] | None:
    """The attempt each run's heartbeat names, for the runs that have one; None when Redis
    does not answer (then nobody can tell a dead worker from a live one: do nothing)."""
    ids = list(run_ids)
    if not ids:
        return {}
    client = redis_client(url)
    try:
        values = client.mget([run_key(run_id) for run_id in ids])
    except redis.RedisError:
        log.warning("cannot read run heartbeats from Redis", exc_info=True)
        return None
    finally:
        client.close()
    alive = {}
    for run_id, raw in zip(ids, values, strict=True):
        try:
            alive[run_id] = int(raw)
        except (TypeError, ValueError):
            continue  # no key (None) or an unreadable one: not beating
    return alive
