"""grade(job, sandbox, cache): run a suite's cases on a submission, score them outside.

Steps: static forbidden-API check (violations: nothing runs); reference outputs from the cache
or from running the same harness on the solution; the student's run; scoring on the worker.
Infrastructure failures raise SandboxError (never a silent 0); a suite whose own solution
fails raises SuiteError.
"""

from __future__ import annotations

import functools
import io
import secrets
import time
import types
from dataclasses import dataclass

import numpy as np

from grader.bundle import make_bundle, max_case_bytes, task_for
from grader.forbidden import check_forbidden
from grader.job import CaseResult, CaseStatus, GradingJob, GradingResult, RunStatus
from grader.package import CaseSpec, Package
from grader.protocol import RunRecords, parse_run
from grader.reference import (
    CaseOutputs,
    ReferenceCache,
    cache_key,
    deserialize_outputs,
    serialize_outputs,
)
from grader.sandbox import Sandbox, SandboxError, SandboxOutput
from grader.scoring import (
    RunOutcome,
    check_allclose,
    check_metric,
    load_checks,
    run_custom,
    score_case,
)

LOG_TAIL_LINES = 3  # of the sandbox log, quoted in a SandboxError


class SuiteError(RuntimeError):
    """The suite is broken: its own reference solution fails a case. Fix the package."""


@dataclass
class SuiteRun:
    """One sandbox run of the suite on some files, parsed."""

    records: RunRecords
    output: SandboxOutput
    outcome: RunOutcome


def grade(job: GradingJob, sandbox: Sandbox, cache: ReferenceCache) -> GradingResult:
    """Grade one submission; raises SandboxError (infrastructure) or SuiteError (bad suite)."""
    started = time.monotonic()
    config = job.package.config
    violations = check_forbidden(job.files, config)
    if violations:
        return forbidden_result(job.package, violations, time.monotonic() - started)
    reference, reference_s = reference_outputs(job, sandbox, cache)
    run = run_suite(job.package, job.files, job.seed, job.gpu_device, sandbox)
    judge = Judge(job.package, reference)
    cases = [
        score_case(
            spec,
            run.records.cases.get(spec.name),
            run.records.running() == spec.name,
            run.outcome,
            functools.partial(judge.check, spec),
        )
        for spec in config.cases
    ]
    return GradingResult(
        status=RunStatus.GRADED,
        score=sum(c.points for c in cases),
        max_score=config.max_score,
        cases=cases,
        message=summary(cases, run),
        log=run.output.log.decode("utf-8", errors="replace"),
        timings=timings(time.monotonic() - started, run.output.seconds, cases, reference_s),
    )


def timings(total: float, container: float, cases: list[CaseResult], reference: float) -> dict:
    """Seconds: total, container (student run), cases (sum), reference, startup (the rest)."""
    case_s = sum(c.seconds or 0.0 for c in cases)
    values = {
        "total": total,
        "container": container,
        "cases": case_s,
        "reference": reference,
        "startup": max(0.0, container - case_s),
    }
    return {k: round(v, 4) for k, v in values.items()}


def forbidden_result(package: Package, violations: list[str], seconds: float) -> GradingResult:
    """Nothing runs: every case FORBIDDEN with 0 points, the violations named."""
    shown = "; ".join(violations[:5]) + ("; ..." if len(violations) > 5 else "")
    cases = [
        CaseResult(c.name, 0.0, float(c.points), CaseStatus.FORBIDDEN, shown)
        for c in package.config.cases
    ]
    return GradingResult(
        status=RunStatus.GRADED,
        score=0.0,
        max_score=package.config.max_score,
        cases=cases,
        message=f"Not run: the submission uses APIs this assignment forbids: {shown}",
        timings=timings(seconds, 0.0, [], 0.0),
    )


def run_suite(
    package: Package, files: dict[str, bytes], seed: int, gpu_device: str | None, sandbox: Sandbox
) -> SuiteRun:
    """Run every case on `files` in one fresh sandbox and parse what came back."""
    nonce = secrets.token_hex(16)
    device = "cuda" if gpu_device is not None else "cpu"
    limits = package.config.limits
    bundle = make_bundle(package, files, task_for(package, seed, nonce, device))
    output = sandbox.run(bundle, limits, gpu_device)
    records = parse_run(
        output.stdout,
        nonce,
        [c.name for c in package.config.cases],
        max_case_bytes=max_case_bytes(package) * 2,  # base64 and JSON framing
        max_output_bytes=max_case_bytes(package),
    )
    if not records.ready:
        # Before "ready" only trusted code ran (preload, cases.py): not the student's fault.
        raise SandboxError(f"the sandbox harness did not start: {_describe_exit(output)}")
    outcome = RunOutcome(
        timed_out=output.timed_out,
        oom_killed=output.oom_killed,
        output_capped=output.output_capped,
        exit_code=output.exit_code,
        wall_s=limits.wall_s,
        memory_mb=limits.memory_mb,
        gpu_memory_mb=limits.gpu_memory_mb,
    )
    return SuiteRun(records, output, outcome)


def reference_outputs(
    job: GradingJob, sandbox: Sandbox, cache: ReferenceCache
) -> tuple[CaseOutputs, float]:
    """Cached reference outputs, or computed now (seconds spent is 0.0 on a cache hit)."""
    device = "cuda" if job.gpu_device is not None else "cpu"
    key = cache_key(job.package.sha256, job.seed, device)
    cached = cache.get(key)
    if cached is not None:
        try:
            return deserialize_outputs(cached), 0.0
        except ValueError:
            pass  # unreadable entry: recompute and overwrite it
    started = time.monotonic()
    outputs = compute_reference(job.package, job.seed, job.gpu_device, sandbox)
    cache.put(key, serialize_outputs(outputs))
    return outputs, time.monotonic() - started


def compute_reference(
    package: Package, seed: int, gpu_device: str | None, sandbox: Sandbox
) -> CaseOutputs:
    """Run the solution through the same harness; every case must run and pass its own check."""
    run = run_suite(package, package.solution_files(), seed, gpu_device, sandbox)
    outputs: CaseOutputs = {}
    for spec in package.config.cases:
        record = run.records.cases.get(spec.name)
        if record is None or record.status != "ok":
            why = record.message if record is not None else "no result (the run ended early)"
            raise SuiteError(f"the reference solution fails case {spec.name!r}: {why}")
        outputs[spec.name] = record.outputs
    judge = Judge(package, outputs)
    for spec in package.config.cases:
        ok, feedback = judge.check(spec, outputs[spec.name])
        if not ok:
            raise SuiteError(f"the reference solution fails case {spec.name!r}: {feedback}")
    return outputs


class Judge:
    """Checks one case's outputs against the reference outputs, labels or a custom check."""

    def __init__(self, package: Package, reference: CaseOutputs) -> None:
        self.package = package
        self.reference = reference
        self._checks: types.ModuleType | None = None
        self._labels: dict[str, np.ndarray] = {}

    def check(self, spec: CaseSpec, outputs: dict[str, np.ndarray]) -> tuple[bool, str]:
        """(passed, feedback) for one case that ran to the end."""
        expected = self.reference.get(spec.name, {})
        if spec.check == "allclose":
            return check_allclose(outputs, expected, spec.rtol, spec.atol)
        labels = self.labels(spec)
        if spec.check == "metric":
            return check_metric(outputs, spec, labels)
        fn = getattr(self.checks(), spec.name, None)
        if fn is None:
            raise SuiteError(f"hidden/checks.py has no function {spec.name!r}")
        return run_custom(fn, outputs, expected, labels)

    def checks(self) -> types.ModuleType:
        """hidden/checks.py, executed once per Judge (trusted instructor code, on the worker)."""
        if self._checks is None:
            self._checks = load_checks(self.package.read("hidden/checks.py"))
        return self._checks

    def labels(self, spec: CaseSpec) -> np.ndarray | None:
        """The case's hidden labels (read with allow_pickle=False), if it declares any."""
        if spec.labels is None:
            return None
        if spec.labels not in self._labels:
            raw = self.package.read(f"hidden/labels/{spec.labels}")
            self._labels[spec.labels] = np.load(io.BytesIO(raw), allow_pickle=False)
        return self._labels[spec.labels]


def summary(cases: list[CaseResult], run: SuiteRun) -> str:
    """One line for the student: how many cases passed and why the run ended, if early."""
    passed = sum(c.status == CaseStatus.PASSED for c in cases)
    line = f"{passed} of {len(cases)} cases passed"
    outcome = run.outcome
    if outcome.timed_out:
        line += f"; the run hit the overall time limit of {outcome.wall_s:g} s"
    elif outcome.output_capped:
        line += "; the run was stopped because it printed too much output"
    elif not run.records.done and outcome.oom_killed:
        line += f"; the run exceeded the memory limit of {outcome.memory_mb} MB"
    elif not run.records.done:
        line += f"; the run ended early (exit code {outcome.exit_code})"
    return line


def _describe_exit(output: SandboxOutput) -> str:
    if output.timed_out:
        return "it did not get ready within the time limit"
    tail = output.log.decode("utf-8", errors="replace").strip().splitlines()[-LOG_TAIL_LINES:]
    return f"exit code {output.exit_code}, oom={output.oom_killed}: " + " | ".join(tail)
