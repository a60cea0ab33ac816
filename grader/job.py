"""The grader's contract: what goes in (a GradingJob) and what comes out (a GradingResult).

`grader` knows nothing of Flask or the database. The Celery task builds a GradingJob from
database rows, calls `grader.grade(job, ...)`, and stores the GradingResult it gets back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from grader.package import Package
    from grader.reference import Draw, Reference


class CaseStatus(enum.StrEnum):
    """Outcome of one hidden case, as shown to the student."""

    PASSED = "passed"  # output matched the reference (or met the target)
    FAILED = "failed"  # ran, but the output was wrong
    ERROR = "error"  # the student's code raised
    TIMEOUT = "timeout"  # the case ran past its time limit
    MEMORY = "memory"  # the case was killed for exceeding the memory limit
    NOT_RUN = "not_run"  # the run ended (wall clock, crash) before this case started
    FORBIDDEN = "forbidden"  # not run: the submission uses a forbidden API


class RunStatus(enum.StrEnum):
    """Outcome of a whole grading run."""

    GRADED = "graded"  # a score was computed (it may be partial)
    FAILED = "failed"  # infrastructure failure: no score (the student is not penalised)


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandbox run."""

    wall_s: float = 120.0  # whole container, enforced from outside
    case_s: float = 30.0  # default per-case limit, enforced by the in-sandbox harness
    memory_mb: int = 1024  # memory limit; swap is set equal (no swap)
    cpus: float = 1.0  # CPU quota, in cores
    pids: int = 64
    tmpfs_mb: int = 64  # the only writable place in the container
    output_kb: int = 16384  # total stdout (records) the worker accepts
    log_kb: int = 64  # tail of the student's printed output kept for feedback
    # GPU runs only: the CUDA caching allocator's cap (the harness sets the process's memory
    # fraction from it); 0 means the whole device.
    gpu_memory_mb: int = 4096


@dataclass(frozen=True)
class GradingJob:
    """Everything needed to grade one submission against one suite version.

    `files` are the student's files (name -> bytes), already validated by the web side.
    `package` is the suite version (its sha256 names it). Each run gets a fresh Draw (inputs
    seed and secret) with its reference outputs, from the bank or computed alongside the run;
    `reference` (a draw whose outputs are known, e.g. the self-check's shared one) or `draw`
    (computed now) pin it, for the self-check and tests. Never reuse a draw for students.
    """

    files: dict[str, bytes]
    package: Package
    gpu_device: str | None = None  # device id the worker leased for this run, if any
    reference: Reference | None = None
    draw: Draw | None = None
    # The leased device has other slots (GRADER_GPU_SHARING > 1, grader/gpus.py): other runs
    # may use it at the same time, so a case's CUDA out-of-memory error is retried, not scored,
    # unless the case itself held more than its cap.
    gpu_shared: bool = False
    # Told each case's name as the harness starts it (a live page's "now running"); display
    # only: it never changes what is scored.
    on_case: Callable[[str], None] | None = field(default=None, compare=False, repr=False)
    # Grade only these cases (the self-check's staged mutants; never a student's run): the
    # result holds those cases only, its score their points, its max_score the suite's.
    cases: tuple[str, ...] | None = None


@dataclass
class CaseOutcome:
    """One case's outcome. `feedback` is written by the grader outside the sandbox and is safe
    to show whatever the case's visibility; `detail` (the student's exception text and where it
    was raised) and `output` (what the case printed) are the student's own words and are shown
    to the student only as `visibility` allows (staff always see them)."""

    name: str
    points: float
    max_points: float
    status: CaseStatus
    feedback: str = ""
    seconds: float | None = None
    detail: str = ""
    output: str = ""
    visibility: str = "visible"  # grader.package.VISIBILITIES


@dataclass
class GradingResult:
    status: RunStatus
    score: float
    max_score: float
    cases: list[CaseOutcome] = field(default_factory=list)
    message: str = ""  # one line for the student: why the run ended as it did
    # The sandboxes' own log (harness and interpreter messages, capped): for staff. What the
    # student's code printed is in each case's `output`.
    log: str = ""
    # seconds per phase (grader.engine.timings: total, acquire, container, ready, cases,
    # reference, startup, scoring)
    timings: dict[str, float] = field(default_factory=dict)
