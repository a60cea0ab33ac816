"""Self-check of an assignment package: reference, starter and every mutant through the grader,
on several draws (seeds).

Rules (a suite may go live only when all hold, on EVERY seed): the reference solution scores
full marks, the starter scores zero, and every mutant (a realistic buggy implementation) loses
points. A mutant caught on four seeds of five is a lottery for students: it counts as survived.
The kill rate is the share of mutants killed on every seed.

A mutant is graded one environment at a time, cheapest first (numpy before torch): once it has
lost points it is killed on that seed, and the environments left are not run for it (its
score is then an upper bound: full marks less the points it lost; its lost cases are those of
the environments that ran). The reference and the starter always run every case.

Seeds are reproducible: a seed fixes the whole draw (the inputs seed and, derived from it, the
secret of hidden/rundata.py), so `--seed N` replays exactly what a report printed. Each seed's
reference outputs are computed once, before the implementations run on it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

from grader.job import GradingJob

if TYPE_CHECKING:  # the report half is imported by web pages that never load the engine
    from grader.package import Package
    from grader.reference import Draw, Reference
    from grader.sandbox import Sandbox

REFERENCE, STARTER, MUTANT = "reference", "starter", "mutant"
KINDS = (REFERENCE, STARTER, MUTANT)
DEFAULT_WORKERS = 2  # one container per core on a small worker
DEFAULT_SEEDS = 5  # draws a suite must hold on before it may go live
SCORE_EPS = 1e-9  # scores are sums of case points: compare with a little slack
LOST_SHOWN = 6  # lost case names shown per row of the text table


@dataclass(frozen=True)
class RunReport:
    """One implementation graded by the real grader on every seed, and whether it obeys its
    rule on all of them."""

    name: str  # "reference", "starter" or the mutant's folder name
    kind: str  # one of KINDS
    scores: tuple[float, ...]  # per seed, in the report's seed order
    max_score: float
    lost: tuple[str, ...]  # cases that lost points on some seed
    seconds: float  # all seeds together

    @property
    def label(self) -> str:
        """How the table names it: reference, starter or mutants/<name>."""
        return f"mutants/{self.name}" if self.kind == MUTANT else self.name

    @property
    def score(self) -> float:
        """The score that decides the rule: the reference's lowest, the others' highest."""
        return min(self.scores) if self.kind == REFERENCE else max(self.scores)

    def holds(self, score: float) -> bool:
        """Reference: full marks; starter: zero; mutant: less than full marks."""
        full = score >= self.max_score - SCORE_EPS
        if self.kind == REFERENCE:
            return full
        if self.kind == STARTER:
            return score <= SCORE_EPS
        return not full

    @property
    def broken_on(self) -> int:
        """On how many seeds the rule did not hold."""
        return sum(not self.holds(score) for score in self.scores)

    @property
    def ok(self) -> bool:
        return bool(self.scores) and self.broken_on == 0

    @property
    def result(self) -> str:
        """A short word for the table: what these runs showed."""
        some = f" on {self.broken_on} of {len(self.scores)} seeds" if len(self.scores) > 1 else ""
        if self.kind == MUTANT:
            return "killed" if self.ok else f"SURVIVED{some}"
        return "ok" if self.ok else f"FAILS{some}"

    @property
    def why(self) -> str:
        """The broken rule in words; empty when the run obeys its rule."""
        if self.ok:
            return ""
        got = f"{self.score:g} of {self.max_score:g}"
        seeds = f" on {self.broken_on} of {len(self.scores)} seeds" if len(self.scores) > 1 else ""
        if self.kind == REFERENCE:
            return f"the reference solution must score full marks, got {got}{seeds}"
        if self.kind == STARTER:
            return f"the starter must score 0, got {got}{seeds}"
        return f"mutant {self.name} scores full marks{seeds}: no case catches it"

    def to_dict(self) -> dict:
        return {**asdict(self), "scores": list(self.scores), "lost": list(self.lost)}

    @classmethod
    def from_dict(cls, raw: dict) -> RunReport:
        """Read a stored report; one stored before seeds existed has a single `score`."""
        fields = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        scores = raw.get("scores", [raw["score"]] if "score" in raw else [])
        return cls(**{**fields, "scores": tuple(scores), "lost": tuple(raw.get("lost", ()))})


@dataclass(frozen=True)
class SelfCheckReport:
    """The self-check of one package: every run, or the error that stopped the check."""

    slug: str
    sha256: str
    max_score: float
    runs: tuple[RunReport, ...] = ()
    error: str = ""  # set when the check could not complete (broken suite, no sandbox)
    seconds: float = 0.0
    seeds: tuple[int, ...] = ()  # the draws every run was graded on (Draw.of_seed)

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
        return {**asdict(self), "runs": [r.to_dict() for r in self.runs], "seeds": list(self.seeds)}

    @classmethod
    def from_dict(cls, raw: dict) -> SelfCheckReport:
        runs = tuple(RunReport.from_dict(r) for r in raw.get("runs", ()))
        return cls(**{**raw, "runs": runs, "seeds": tuple(raw.get("seeds", ()))})


def implementations(
    package: Package, only: Collection[str] | None = None
) -> list[tuple[str, str, dict[str, bytes]]]:
    """(kind, name, files) for the reference, the starter and each mutant (those named in
    `only`, when given), in report order."""
    found = [
        (REFERENCE, REFERENCE, package.solution_files()),
        (STARTER, STARTER, package.starter_files()),
    ]
    mutants = package.mutants().items()
    found += [(MUTANT, name, files) for name, files in mutants if only is None or name in only]
    return found


def fresh_seeds(count: int = DEFAULT_SEEDS) -> tuple[int, ...]:
    """`count` random seeds (printed in the report, so any of them can be replayed)."""
    from grader.reference import SEED_BITS

    return tuple(secrets.randbits(SEED_BITS) for _ in range(count))


def run_selfcheck(
    package: Package,
    sandbox: Sandbox,
    workers: int = DEFAULT_WORKERS,
    gpu_device: str | None = None,
    seeds: Sequence[int] | None = None,
    only: Collection[str] | None = None,
) -> SelfCheckReport:
    """Grade every implementation of `package` (of the mutants, those in `only` when given:
    for quick iteration, never to publish) on each seed's draw (DEFAULT_SEEDS fresh seeds
    unless given), each seed's reference computed once; a broken suite or sandbox ends in
    report.error."""
    from grader.engine import SuiteError
    from grader.reference import Draw
    from grader.sandbox import SandboxError

    started = time.monotonic()
    seeds = tuple(seeds) if seeds is not None else fresh_seeds()
    base = {
        "slug": package.config.slug,
        "sha256": package.sha256,
        "max_score": package.config.max_score,
        "seeds": seeds,
    }
    found = implementations(package, only)
    per_seed: list[list[tuple[float, tuple[str, ...], float]]] = []
    try:
        for seed in seeds:
            shared = _shared_reference(package, sandbox, Draw.of_seed(seed), gpu_device)
            jobs = [
                (GradingJob(files, package, gpu_device, reference=shared), kind == MUTANT)
                for kind, _, files in found
            ]
            per_seed.append(_grade_all(jobs, sandbox, workers))
    except SuiteError as exc:
        return SelfCheckReport(**base, error=str(exc), seconds=time.monotonic() - started)
    except SandboxError as exc:
        error = f"the check could not run: {exc}"
        return SelfCheckReport(**base, error=error, seconds=time.monotonic() - started)
    runs = []
    for index, (kind, name, _files) in enumerate(found):
        results = [seed_runs[index] for seed_runs in per_seed]
        lost = tuple(dict.fromkeys(case for _, cases, _ in results for case in cases))
        scores = tuple(score for score, _, _ in results)
        seconds = round(sum(s for *_, s in results), 2)
        runs.append(RunReport(name, kind, scores, package.config.max_score, lost, seconds))
    return SelfCheckReport(**base, runs=tuple(runs), seconds=time.monotonic() - started)


def _shared_reference(
    package: Package, sandbox: Sandbox, draw: Draw, gpu_device: str | None
) -> Reference:
    """The reference outputs for `draw`, computed once for every implementation."""
    from grader.engine import compute_reference, run_data_for
    from grader.reference import Reference

    outputs = compute_reference(package, draw, run_data_for(package, draw), gpu_device, sandbox)
    return Reference(draw, outputs)


def stages(package: Package) -> list[tuple[str, ...]]:
    """The case names of each environment the suite uses, cheapest environment first."""
    cases = package.config.cases
    return [
        tuple(c.name for c in cases if c.environment == env)
        for env in package.config.environments()
    ]


def _grade_all(
    jobs: Iterable[tuple[GradingJob, bool]], sandbox: Sandbox, workers: int
) -> list[tuple[float, tuple[str, ...], float]]:
    """Grade the jobs on `workers` threads (each run is its own container), keeping their
    order: (score, lost case names, seconds) each. A job marked staged (a mutant) runs one
    environment at a time and stops at the first that loses points."""
    from grader.engine import grade

    def run(job: GradingJob, staged: bool) -> tuple[float, tuple[str, ...], float]:
        started = time.monotonic()
        parts = stages(job.package) if staged else [None]
        score, lost = job.package.config.max_score, ()
        for part in parts:
            result = grade(replace(job, cases=part), sandbox)
            missed = [c for c in result.cases if c.points < c.max_points - SCORE_EPS]
            lost += tuple(c.name for c in missed)
            score = (
                result.score
                if part is None
                else score - sum(c.max_points - c.points for c in missed)
            )
            if missed:
                break
        return score, lost, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(run, job, staged) for job, staged in jobs]
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
        (r.label, score_text(r), f"{r.max_score:g}", r.result, lost_text(r), f"{r.seconds:.1f}")
        for r in report.runs
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.append(report.kill_rate_text() + " (killed on every seed)")
    verdict = "PASSED" if report.passed else "FAILED"
    seeds = ", ".join(str(seed) for seed in report.seeds)
    n_seeds = len(report.seeds)
    lines.append(
        f"self-check {verdict} on {n_seeds} seed{'' if n_seeds == 1 else 's'}"
        f" in {report.seconds:.1f} s"
    )
    lines.append(f"seeds (replay with --seed): {seeds}")
    lines += [f"  - {problem}" for problem in report.problems()]
    return "\n".join(lines)


def score_text(run: RunReport) -> str:
    """The score, or its range over the seeds when they differ ('78-100')."""
    low, high = min(run.scores, default=0.0), max(run.scores, default=0.0)
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def lost_text(run: RunReport) -> str:
    """The cases a run lost, shortened to 'all' when it lost every case (the usual starter)."""
    if not run.lost:
        return "-"
    if run.score <= SCORE_EPS:
        return f"all {len(run.lost)} cases"
    shown = ", ".join(run.lost[:LOST_SHOWN])
    return shown + (f" (+{len(run.lost) - LOST_SHOWN} more)" if len(run.lost) > LOST_SHOWN else "")
