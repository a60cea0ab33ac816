"""Where a grading run goes, and how long it is likely to wait there.

`route` is the one place that turns an assignment's `gpu` setting into a run's queue and
device; everything else asks it. "none" -> cpu, on the CPU. "required" -> gpu, always (it
waits there while no GPU worker is alive, and the student is told why). "preferred" -> gpu
when a worker consuming the gpu queue is alive (its heartbeat, webapp.jobs.fleet), else cpu.
Wherever it lands, a run of a suite that uses a GPU takes one when its worker has one
(webapp.jobs.tasks leases it). The chosen queue is stored on the run (GradingRun.queue) when
it is sent. Self-checks go to the cpu queue and run on the CPU (every worker consumes it).

Waiting: a queued run's position is the number of queued runs of its queue that workers will
claim before it, in the fair order of webapp.jobs.scheduling (from the database); the
expected wait is position x the queue's recent mean grading time / the concurrency of the
live workers on that queue, and None when either is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from statistics import fmean

from sqlalchemy import select

from webapp.extensions import db
from webapp.jobs.fleet import WorkerInfo, fleet
from webapp.jobs.scheduling import position
from webapp.models import GradingRun, RunState, Suite, utcnow

CPU, GPU = "cpu", "gpu"
RECENT_RUNS = 20  # graded runs the mean grading time is taken over
RECENT_WINDOW = timedelta(days=2)  # older runs say little about today's load
NO_WORKER_NOTES = {
    GPU: "waiting for a GPU worker: none is online",
    CPU: "waiting for a grading worker: none is online",
}


@dataclass(frozen=True)
class Route:
    """Where a run of a suite goes now: the queue its turn is sent on, whether it runs on a GPU
    when its worker has one, and whether the queue depends on which workers are alive."""

    queue: str
    uses_gpu: bool
    follows_fleet: bool = False  # "preferred": a run queued earlier may be stranded later


def route(gpu_mode: str, workers: Sequence[WorkerInfo] = ()) -> Route:
    """The one routing decision, from an assignment's gpu mode and the live workers."""
    uses_gpu = gpu_mode != "none"
    preferred = gpu_mode == "preferred"
    on_gpu = gpu_mode == "required" or (preferred and any(w.consumes(GPU) for w in workers))
    return Route(GPU if on_gpu else CPU, uses_gpu, follows_fleet=preferred)


class Router:
    """Routes for one request or reconciler pass: worker heartbeats are read at most once, and
    only for a suite whose route depends on them."""

    def __init__(self, workers: Sequence[WorkerInfo] | None = None) -> None:
        self._workers = workers

    def route(self, suite: Suite) -> Route:
        mode = suite.config.gpu
        if mode == "preferred" and self._workers is None:
            self._workers = fleet()
        return route(mode, self._workers or ())


def queue_for(suite: Suite, workers: Sequence[WorkerInfo] | None = None) -> str:
    """The queue a run of `suite` is sent to now."""
    return Router(workers).route(suite).queue


@dataclass(frozen=True)
class QueueInfo:
    """Where a queued run stands: its queue, runs ahead, expected wait, why it may not move."""

    name: str
    position: int
    expected_wait_s: float | None
    note: str = ""

    @property
    def text(self) -> str:
        """One line for the student, e.g. '2 runs ahead on the gpu queue; expected wait about
        3 min' (the page and the API show the same words)."""
        ahead = "next in line" if self.position == 0 else _runs(self.position) + " ahead"
        where = f"{ahead} on the {self.name} queue"
        if self.note:
            return f"{self.note} ({where})"
        return f"{where}; expected wait {format_wait(self.expected_wait_s)}"

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "position": self.position,
            "expected_wait_s": self.expected_wait_s,
            "note": self.note,
            "text": self.text,
        }


def format_wait(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 60:
        return "under a minute"
    return f"about {round(seconds / 60)} min"


def _runs(count: int) -> str:
    return f"{count} run" if count == 1 else f"{count} runs"


def runs_ahead(run: GradingRun) -> int:
    """Queued runs of the run's queue that will be graded before it: those ahead of it in
    the order workers claim them (webapp.jobs.scheduling.fair_order), not merely sent earlier."""
    return position(run)


def mean_grading_s(queue: str) -> float | None:
    """Mean seconds from claim to result over the queue's last RECENT_RUNS graded runs."""
    rows = db.session.execute(
        select(GradingRun.started_at, GradingRun.finished_at)
        .where(
            GradingRun.queue == queue,
            GradingRun.status == RunState.GRADED,
            GradingRun.started_at.is_not(None),
            GradingRun.finished_at > utcnow() - RECENT_WINDOW,
        )
        .order_by(GradingRun.finished_at.desc())
        .limit(RECENT_RUNS)
    ).all()
    seconds = [(end - start).total_seconds() for start, end in rows]
    return fmean(seconds) if seconds else None


def concurrency(queue: str, workers: list[WorkerInfo]) -> int:
    """How many runs of `queue` the live workers take at once."""
    return sum(max(1, w.concurrency) for w in workers if w.consumes(queue))


def queue_info(run: GradingRun, workers: list[WorkerInfo] | None = None) -> QueueInfo | None:
    """Where a queued run stands; None for a run that is not queued."""
    if run.status is not RunState.QUEUED:
        return None
    workers = fleet() if workers is None else workers
    position = runs_ahead(run)
    slots = concurrency(run.queue, workers)
    mean = mean_grading_s(run.queue) if slots else None
    wait = round(position * mean / slots, 1) if mean is not None else None
    note = "" if slots else NO_WORKER_NOTES.get(run.queue, NO_WORKER_NOTES[CPU])
    return QueueInfo(run.queue, position, wait, note)
