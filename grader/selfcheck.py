"""Self-check of an assignment package: reference, starter and every mutant through the grader.

Rules (a suite may go live only when all hold): the reference solution scores full marks, the
starter scores zero, and every mutant (a realistic buggy implementation) loses points. The kill
rate is the share of mutants that score below full marks.

The reference outputs are computed once, through the caller's cache, before anything else runs;
the parallel runs then read them from an in-memory copy, so the caller's cache (which may need
an application context) is only touched from the calling thread.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from grader.job import GradingJob

if TYPE_CHECKING:  # the report half is imported by web pages that never load the engine
    from grader.package import Package
    from grader.reference import Draw, Reference
    from grader.sandbox import Sandbox

REFERENCE, STARTER, MUTANT = "reference", "starter", "mutant"
KINDS = (REFERENCE, STARTER, MUTANT)
DEFAULT_WORKERS = 2  # one container per core on a small worker
SCORE_EPS = 1e-9  # scores are sums of case points: compare with a little slack
LOST_SHOWN = 6  # lost case names shown per row of the text table


@dataclass(frozen=True)
class RunReport:
    """One implementation graded by the real grader, and whether it obeys its rule."""

    name: str  # "reference", "starter" or the mutant's folder name
    kind: str  # one of KINDS
    score: float
    max_score: float
    lost: tuple[str, ...]  # names of the cases that lost points
    seconds: float

    @property
    def label(self) -> str:
        """How the table names it: reference, starter or mutants/<name>."""
        return f"mutants/{self.name}" if self.kind == MUTANT else self.name

    @property
    def ok(self) -> bool:
        """Reference: full marks; starter: zero; mutant: less than full marks."""
        full = self.score >= self.max_score - SCORE_EPS
        if self.kind == REFERENCE:
            return full
        if self.kind == STARTER:
            return self.score <= SCORE_EPS
        return not full

    @property
    def result(self) -> str:
        """A short word for the table: what this run showed."""
        if self.kind == MUTANT:
            return "killed" if self.ok else "SURVIVED"
        return "ok" if self.ok else "FAILS"

    @property
    def why(self) -> str:
        """The broken rule in words; empty when the run obeys its rule."""
        if self.ok:
            return ""
        got = f"{self.score:g} of {self.max_score:g}"
        if self.kind == REFERENCE:
            return f"the reference solution must score full marks, got {got}"
        if self.kind == STARTER:
            return f"the starter must score 0, got {got}"
        return f"mutant {self.name} scores full marks: no case catches it"

    def to_dict(self) -> dict:
        return {**asdict(self), "lost": list(self.lost)}

    @classmethod
    def from_dict(cls, raw: dict) -> RunReport:
        return cls(**{**raw, "lost": tuple(raw.get("lost", ()))})


@dataclass(frozen=True)
class SelfCheckReport:
    """The self-check of one package: every run, or the error that stopped the check."""

    slug: str
    sha256: str
    max_score: float
    runs: tuple[RunReport, ...] = ()
    error: str = ""  # set when the check could not complete (broken suite, no sandbox)
    seconds: float = 0.0

    @property
    def mutants(self) -> list[RunReport]:
        return [r for r in self.runs if r.kind == MUTANT]

    @property
    def kill_rate(self) -> float | None:
        """Mutants below full marks / mutants; None when the package has no mutants."""
        mutants = self.mutants
        return sum(r.ok for r in mutants) / len(mutants) if mutants else None

    @property
    def passed(self) -> bool:
        kinds = {r.kind for r in self.runs}
        return not self.error and {REFERENCE, STARTER} <= kinds and all(r.ok for r in self.runs)

    def problems(self) -> list[str]:
        """Why the check fails, one line per broken rule (empty when it passes)."""
        if self.error:
            return [self.error]
        missing = [k for k in (REFERENCE, STARTER) if k not in {r.kind for r in self.runs}]
        return [f"no {k} run" for k in missing] + [r.why for r in self.runs if not r.ok]

    def kill_rate_text(self) -> str:
        rate = self.kill_rate
        if rate is None:
            return "kill rate: n/a (the package has no mutants)"
        killed = sum(r.ok for r in self.mutants)
        return f"kill rate: {killed}/{len(self.mutants)} = {rate:.0%}"

    def to_dict(self) -> dict:
        return {**asdict(self), "runs": [r.to_dict() for r in self.runs]}

    @classmethod
    def from_dict(cls, raw: dict) -> SelfCheckReport:
        runs = tuple(RunReport.from_dict(r) for r in raw.get("runs", ()))
        return cls(**{**raw, "runs": runs})


def implementations(package: Package) -> list[tuple[str, str, dict[str, bytes]]]:
    """(kind, name, files) for the reference, the starter and each mutant, in report order."""
    found = [
        (REFERENCE, REFERENCE, package.solution_files()),
        (STARTER, STARTER, package.starter_files()),
    ]
    found += [(MUTANT, name, files) for name, files in package.mutants().items()]
    return found


def run_selfcheck(
    package: Package,
    sandbox: Sandbox,
    workers: int = DEFAULT_WORKERS,
    gpu_device: str | None = None,
    draw: Draw | None = None,
) -> SelfCheckReport:
    """Grade every implementation of `package` on one draw (fresh unless given), whose
    reference is computed once; a broken suite or sandbox ends in report.error."""
    from grader.engine import SuiteError
    from grader.reference import Draw
    from grader.sandbox import SandboxError

    started = time.monotonic()
    base = {
        "slug": package.config.slug,
        "sha256": package.sha256,
        "max_score": package.config.max_score,
    }
    try:
        shared = _shared_reference(package, sandbox, draw or Draw.fresh(), gpu_device)
        jobs = [
            (kind, name, GradingJob(files, package, gpu_device, reference=shared))
            for kind, name, files in implementations(package)
        ]
        runs = _grade_all(jobs, sandbox, workers)
    except SuiteError as exc:
        return SelfCheckReport(**base, error=str(exc), seconds=time.monotonic() - started)
    except SandboxError as exc:
        error = f"the check could not run: {exc}"
        return SelfCheckReport(**base, error=error, seconds=time.monotonic() - started)
    return SelfCheckReport(**base, runs=tuple(runs), seconds=time.monotonic() - started)


def _shared_reference(
    package: Package, sandbox: Sandbox, draw: Draw, gpu_device: str | None
) -> Reference:
    """The reference outputs for `draw`, computed once for every implementation."""
    from grader.engine import compute_reference, run_data_for
    from grader.reference import Reference

    outputs = compute_reference(package, draw, run_data_for(package, draw), gpu_device, sandbox)
    return Reference(draw, outputs)


def _grade_all(
    jobs: Iterable[tuple[str, str, GradingJob]], sandbox: Sandbox, workers: int
) -> list[RunReport]:
    """Grade the jobs on `workers` threads (each run is its own container); keeps their order."""
    from grader.engine import grade

    def run(item: tuple[str, str, GradingJob]) -> RunReport:
        kind, name, job = item
        started = time.monotonic()
        result = grade(job, sandbox)
        lost = tuple(c.name for c in result.cases if c.points < c.max_points - SCORE_EPS)
        seconds = round(time.monotonic() - started, 2)
        return RunReport(name, kind, result.score, result.max_score, lost, seconds)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(run, item) for item in jobs]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for future in futures:
                future.cancel()  # a sandbox failure ends the check: start nothing more
            raise


def format_table(report: SelfCheckReport) -> str:
    """The report as a plain-text table, then the kill rate and the verdict."""
    header = ("implementation", "score", "max", "result", "lost cases", "seconds")
    rows = [
        (r.label, f"{r.score:g}", f"{r.max_score:g}", r.result, lost_text(r), f"{r.seconds:.1f}")
        for r in report.runs
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.append(report.kill_rate_text())
    verdict = "PASSED" if report.passed else "FAILED"
    lines.append(f"self-check {verdict} in {report.seconds:.1f} s")
    lines += [f"  - {problem}" for problem in report.problems()]
    return "\n".join(lines)


def lost_text(run: RunReport) -> str:
    """The cases a run lost, shortened to 'all' when it lost every case (the usual starter)."""
    if not run.lost:
        return "-"
    if run.score <= SCORE_EPS:
        return f"all {len(run.lost)} cases"
    shown = ", ".join(run.lost[:LOST_SHOWN])
    return shown + (f" (+{len(run.lost) - LOST_SHOWN} more)" if len(run.lost) > LOST_SHOWN else "")
