"""grade(job, sandbox, bank): run a suite's cases on a submission, score them outside.

Steps: static forbidden-API check (violations: nothing runs, early feedback only: the
boundary is the environment's image); a fresh draw (inputs seed and secret) with its
reference outputs, taken from the bank or computed concurrently in the solution's own
sandbox; the run's data from hidden/rundata.py (made here, on the worker, from the secret);
the student's run, one sandbox per environment the suite uses; scoring on the worker.
Infrastructure failures raise SandboxError (never a silent 0); a suite whose own solution
fails raises SuiteError. Each sandbox runs under a progress watchdog (grader/sandbox.py) built
from its cases' time limits: a run that stops reporting during a case is ended there, that
case TIMEOUT, the cases before it kept; one that stops before any case began is SandboxError.
"""

from __future__ import annotations

import functools
import inspect
import io
import logging
import secrets
import time
import types
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from grader.bundle import make_bundle, max_case_bytes, sandbox_stdin, task_for
from grader.forbidden import check_forbidden
from grader.gpus import CoTenantOutOfMemory, over_gpu_cap
from grader.job import CaseOutcome, CaseStatus, GradingJob, GradingResult, Limits, RunStatus
from grader.package import CaseSpec, Package
from grader.protocol import CaseRecord, RunRecords, parse_run
from grader.reference import (
    CaseOutputs,
    Draw,
    Reference,
    ReferenceBank,
    bank_key,
    deserialize_reference,
    serialize_reference,
)
from grader.rundata import RunData, RunDataError, prepare_run
from grader.sandbox import ProgressSchedule, Sandbox, SandboxError, SandboxOutput
from grader.scoring import (
    GPU_OOM_RE,
    RunOutcome,
    check_allclose,
    check_metric,
    load_checks,
    run_custom,
    score_case,
)

log = logging.getLogger(__name__)

LOG_TAIL_LINES = 3  # of the sandbox log, quoted in a SandboxError
KEY_BYTES = 32


class SuiteError(RuntimeError):
    """The suite is broken: its own reference solution fails a case. Fix the package."""


@dataclass
class EnvironmentRun:
    """One sandbox of a run: the cases of one environment, parsed."""

    environment: str
    records: RunRecords
    output: SandboxOutput
    outcome: RunOutcome


@dataclass
class SuiteRun:
    """A run of (some of) the suite's cases on some files: one sandbox per environment."""

    runs: list[EnvironmentRun]

    def of(self, spec: CaseSpec) -> EnvironmentRun:
        return next(r for r in self.runs if r.environment == spec.environment)

    def record(self, spec: CaseSpec) -> CaseRecord | None:
        return self.of(spec).records.cases.get(spec.name)

    @property
    def seconds(self) -> float:
        return max((r.output.seconds for r in self.runs), default=0.0)

    @property
    def acquire_s(self) -> float:
        """Waiting for started containers (they are acquired concurrently: the longest)."""
        return max((r.output.acquire_s for r in self.runs), default=0.0)

    @property
    def ready_s(self) -> float:
        """The harness's own start-up, from its start to "ready" (the zygote forked, the
        preload modules and cases.py imported); the longest of the sandboxes."""
        return max((r.records.preload_s or 0.0 for r in self.runs), default=0.0)

    @property
    def cpu_s(self) -> float:
        """CPU seconds spent inside the sandboxes (all of them), as their harnesses reported."""
        return sum(r.records.cpu_s or 0.0 for r in self.runs)

    @property
    def case_cpu_s(self) -> float:
        """Of which the case processes' (the submitted code and the probes calling it)."""
        return sum(r.records.case_cpu_s or 0.0 for r in self.runs)

    @property
    def log(self) -> str:
        parts = []
        for r in self.runs:
            text = r.output.log.decode("utf-8", errors="replace").strip()
            if r.records.rejected:
                count = r.records.rejected
                lines = "line" if count == 1 else "lines"
                text += f"\n[{count} unauthenticated {lines} on the record stream]"
            if text.strip():
                parts.append(f"[{r.environment} sandbox]\n{text.strip()}")
        return "\n".join(parts)


def device_kind(gpu_device: str | None) -> str:
    return "cuda" if gpu_device is not None else "cpu"


def grade(job: GradingJob, sandbox: Sandbox, bank: ReferenceBank | None = None) -> GradingResult:
    """Grade one submission; raises SandboxError (infrastructure) or SuiteError (bad suite)."""
    started = time.monotonic()
    config = job.package.config
    violations = check_forbidden(job.files, config)
    if violations:
        return forbidden_result(job.package, violations, time.monotonic() - started)
    reference = job.reference
    if reference is None and job.draw is None and bank is not None:
        reference = take_reference(bank, job.package, job.gpu_device)
    draw = reference.draw if reference is not None else (job.draw or Draw.fresh())
    run_data = run_data_for(job.package, draw)
    specs = [c for c in config.cases if job.cases is None or c.name in job.cases]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reference") as pool:
        future = None
        if reference is None:  # the bank was empty: compute it alongside the student's run
            args = (job.package, draw, run_data, job.gpu_device, sandbox)
            future = pool.submit(timed_reference, *args, gpu_shared=job.gpu_shared)
        run = run_suite(
            job.package, job.files, draw, run_data, job.gpu_device, sandbox, specs, job.on_case
        )
        reference_s = 0.0
        if future is not None:
            reference, reference_s = future.result()
    check_shared_gpu_oom(run, specs, job.gpu_shared)
    scoring_began = time.monotonic()
    judge = Judge(job.package, reference.outputs, run_data.held)
    cases = [score(spec, run, judge) for spec in specs]
    scoring_s = time.monotonic() - scoring_began
    return GradingResult(
        status=RunStatus.GRADED,
        score=sum(c.points for c in cases),
        max_score=config.max_score,
        cases=cases,
        message=summary(cases, run),
        log=run.log,
        timings=timings(
            time.monotonic() - started,
            run.seconds,
            cases,
            reference_s,
            acquire=run.acquire_s,
            ready=run.ready_s,
            scoring=scoring_s,
            cpu=run.cpu_s,
            case_cpu=run.case_cpu_s,
        ),
    )


def take_reference(bank: ReferenceBank, package: Package, gpu_device: str | None):
    """One unused precomputed reference for this suite and device, or None."""
    while (data := bank.take(bank_key(package.sha256, device_kind(gpu_device)))) is not None:
        try:
            return deserialize_reference(data)
        except ValueError:
            log.warning("dropped an unreadable reference of suite %s", package.sha256[:12])
    return None


def fill_bank(
    package: Package, sandbox: Sandbox, bank: ReferenceBank, gpu_device: str | None = None
) -> Reference:
    """Compute the reference for one fresh draw and put it in the bank (idle-time work)."""
    draw = Draw.fresh()
    outputs = compute_reference(package, draw, run_data_for(package, draw), gpu_device, sandbox)
    reference = Reference(draw, outputs)
    bank.add(bank_key(package.sha256, device_kind(gpu_device)), serialize_reference(reference))
    return reference


def run_data_for(package: Package, draw: Draw) -> RunData:
    """The draw's run data (hidden/rundata.py); a broken rundata.py is the suite's fault."""
    try:
        return prepare_run(package, draw.secret)
    except RunDataError as exc:
        raise SuiteError(str(exc)) from exc


def score(spec: CaseSpec, run: SuiteRun, judge: Judge) -> CaseOutcome:
    env_run = run.of(spec)
    record = run.record(spec)
    result = score_case(
        spec,
        record,
        env_run.records.running() == spec.name,
        env_run.outcome,
        functools.partial(judge.check, spec),
    )
    result.visibility = spec.visibility
    if record is not None:
        result.output = record.output
    return result


def timings(
    total: float,
    container: float,
    cases: list[CaseOutcome],
    reference: float,
    *,
    acquire: float = 0.0,
    ready: float = 0.0,
    scoring: float = 0.0,
    cpu: float = 0.0,
    case_cpu: float = 0.0,
) -> dict:
    """Seconds of a grading run's phases: total (the grader's), acquire (a started container:
    create + start, or a warm one's take), container (bundle sent -> output ended), ready
    (inside it: the harness's start to "ready", zygote and imports), cases (their sum), startup
    (container time not spent in cases), reference (computed alongside; 0 when banked),
    scoring; and CPU seconds inside the sandboxes: cpu (everything from the interpreter's
    start, a warm container's wait included) and case_cpu (the case processes')."""
    case_s = sum(c.seconds or 0.0 for c in cases)
    values = {
        "total": total,
        "acquire": acquire,
        "container": container,
        "ready": ready,
        "cases": case_s,
        "reference": reference,
        "startup": max(0.0, container - case_s),
        "scoring": scoring,
        "cpu": cpu,
        "case_cpu": case_cpu,
    }
    return {k: round(v, 4) for k, v in values.items()}


def forbidden_result(package: Package, violations: list[str], seconds: float) -> GradingResult:
    """Nothing runs: every case FORBIDDEN with 0 points, the violations named."""
    shown = "; ".join(violations[:5]) + ("; ..." if len(violations) > 5 else "")
    cases = [
        CaseOutcome(c.name, 0.0, float(c.points), CaseStatus.FORBIDDEN, shown, visibility="visible")
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
    package: Package,
    files: dict[str, bytes],
    draw: Draw,
    run_data: RunData,
    gpu_device: str | None,
    sandbox: Sandbox,
    cases: Sequence[CaseSpec] | None = None,
    on_case: Callable[[str], None] | None = None,
) -> SuiteRun:
    """Run `cases` (default: all) on `files`: one fresh sandbox per environment, concurrently;
    `on_case` is told each case's name as it starts."""
    specs = list(package.config.cases if cases is None else cases)
    groups = [
        (env, [c for c in specs if c.environment == env])
        for env in package.config.environments()
        if any(c.environment == env for c in specs)
    ]

    def one(group: tuple[str, list[CaseSpec]]) -> EnvironmentRun:
        env, env_cases = group
        gpu = gpu_device if env == "torch" else None
        return run_environment(
            package, files, draw, run_data, gpu, sandbox, env, env_cases, on_case
        )

    if len(groups) == 1:
        return SuiteRun([one(groups[0])])
    with ThreadPoolExecutor(max_workers=len(groups), thread_name_prefix="env") as pool:
        return SuiteRun(list(pool.map(one, groups)))


def run_environment(
    package: Package,
    files: dict[str, bytes],
    draw: Draw,
    run_data: RunData,
    gpu_device: str | None,
    sandbox: Sandbox,
    environment: str,
    cases: list[CaseSpec],
    on_case: Callable[[str], None] | None = None,
) -> EnvironmentRun:
    """One sandbox: the cases of one environment, with a record key made for it alone."""
    key = secrets.token_bytes(KEY_BYTES)
    limits = package.config.limits
    task = task_for(package, draw.seed, device_kind(gpu_device), environment, cases)
    bundle = make_bundle(package, files, task, run_data.data)
    # The progress watchdog's schedule: the time limits the harness enforces, in its order.
    timeouts = {c["name"]: float(c["timeout_s"]) for c in task["cases"]}
    names = list(timeouts)
    progress = ProgressSchedule(
        tuple(timeouts.values()),
        on_case=(lambda i: on_case(names[i]) if i < len(names) else None) if on_case else None,
    )
    stdin = sandbox_stdin(bundle, key)
    preload = package.config.preload_for(environment)
    output = run_sandbox(sandbox, stdin, limits, gpu_device, environment, progress, preload)
    records = parse_run(
        output.stdout,
        key,
        [c.name for c in cases],
        max_case_bytes=max_case_bytes(package) * 2 + 2 * 16384,  # base64, JSON, prints
        max_output_bytes=max_case_bytes(package),
    )
    if not records.ready:
        # Before "ready" only trusted code ran (preload, cases.py): not the student's fault.
        raise SandboxError(f"the sandbox harness did not start: {_describe_exit(output, progress)}")
    if output.stalled and not records.started:
        # Stopped reporting before the first case began: no submitted code had run yet.
        raise SandboxError(
            f"the sandbox harness stopped reporting before the first case started "
            f"(nothing for {progress.grace_s:g} s after it was ready)"
        )
    running = records.running()
    outcome = RunOutcome(
        stalled=output.stalled,
        stall_s=timeouts.get(running, 0.0) if running is not None else 0.0,
        timed_out=output.timed_out,
        oom_killed=output.oom_killed,
        output_capped=output.output_capped,
        exit_code=output.exit_code,
        wall_s=limits.wall_s,
        memory_mb=limits.memory_mb,
        gpu_memory_mb=limits.gpu_memory_mb,
    )
    return EnvironmentRun(environment, records, output, outcome)


def run_sandbox(
    sandbox: Sandbox,
    stdin: bytes,
    limits: Limits,
    gpu_device: str | None,
    environment: str,
    progress: ProgressSchedule,
    preload: tuple[str, ...] = (),
) -> SandboxOutput:
    """sandbox.run with the progress schedule and the preload modules where its `run` takes
    them (DockerSandbox does; test doubles written before them do not, and run without)."""
    options = {
        name: value
        for name, value in (("progress", progress), ("preload", preload))
        if _takes(sandbox.run, name)
    }
    return sandbox.run(stdin, limits, gpu_device, environment, **options)


def _takes(run, name: str) -> bool:
    try:
        params = inspect.signature(run).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind == inspect.Parameter.VAR_KEYWORD for p in params)


def timed_reference(
    package: Package,
    draw: Draw,
    run_data: RunData,
    gpu_device: str | None,
    sandbox: Sandbox,
    gpu_shared: bool = False,
) -> tuple[Reference, float]:
    started = time.monotonic()
    outputs = compute_reference(package, draw, run_data, gpu_device, sandbox, gpu_shared)
    return Reference(draw, outputs), time.monotonic() - started


def compute_reference(
    package: Package,
    draw: Draw,
    run_data: RunData,
    gpu_device: str | None,
    sandbox: Sandbox,
    gpu_shared: bool = False,
) -> CaseOutputs:
    """Run the solution (trusted code only, in its own sandbox) on the draw's inputs for the
    cases that need a reference; every one must run and pass its own check (on a shared GPU,
    a GPU out-of-memory error within the solution's cap is a co-tenant's doing, not the
    suite's: CoTenantOutOfMemory)."""
    specs = [c for c in package.config.cases if c.needs_reference]
    if not specs:
        return {}
    run = run_suite(package, package.solution_files(), draw, run_data, gpu_device, sandbox, specs)
    check_shared_gpu_oom(run, specs, gpu_shared)
    outputs: CaseOutputs = {}
    for spec in specs:
        record = run.record(spec)
        if record is None or record.status != "ok":
            why = record.message if record is not None else "no result (the run ended early)"
            raise SuiteError(f"the reference solution fails case {spec.name!r}: {why}")
        outputs[spec.name] = record.outputs
    judge = Judge(package, outputs, run_data.held)
    for spec in specs:
        ok, feedback = judge.check(spec, outputs[spec.name])
        if not ok:
            raise SuiteError(f"the reference solution fails case {spec.name!r}: {feedback}")
    return outputs


def check_shared_gpu_oom(run: SuiteRun, specs: Sequence[CaseSpec], gpu_shared: bool) -> None:
    """On a shared GPU, raise CoTenantOutOfMemory for a case whose code ran out of GPU memory
    without itself holding more than its cap: the run is retried, never scored for it.

    Why: on a shared GPU (GRADER_GPU_SHARING > 1, opted in as unsafe) the other runs' caps are
    advisory, set inside their own processes, so another tenant can take the memory this case
    needed; scoring that as MEMORY (0 points) would punish the victim. Whether the case was
    over its cap comes from the case's own process (the harness's note, grader/gpus.py
    over_gpu_cap), i.e. from code the student controls: a student can fake "within my cap" to
    get a retry (a retried run grades again from scratch and after its retries fails without a
    score: only GPU time is lost) or "over my cap" to get 0 for the case; never points. On an
    exclusive GPU (sharing 1, or a MIG instance) an out-of-memory error is the student's own
    and scores MEMORY (grader/scoring.py failed_record). Only the torch environment's sandbox
    gets the GPU (run_suite)."""
    if not gpu_shared:
        return
    for spec in specs:
        record = run.record(spec)
        if (
            spec.environment == "torch"
            and record is not None
            and record.status == "raised"
            and GPU_OOM_RE.search(record.message)
            and not over_gpu_cap(record.message)
        ):
            raise CoTenantOutOfMemory(
                f"case {spec.name!r} ran out of GPU memory within its cap on a shared GPU "
                "(another run on the device most likely took it): not scored, retried"
            )


class Judge:
    """Checks one case's outputs against the reference outputs, labels or a custom check."""

    def __init__(
        self, package: Package, reference: CaseOutputs, held: dict[str, np.ndarray] | None = None
    ) -> None:
        self.package = package
        self.reference = reference
        self.held = held or {}
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
        return run_custom(fn, outputs, expected, labels, self.held)

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


def summary(cases: list[CaseOutcome], run: SuiteRun) -> str:
    """One line for the student: how many cases passed and why a sandbox ended early, if so."""
    passed = sum(c.status == CaseStatus.PASSED for c in cases)
    line = f"{passed} of {len(cases)} cases passed"
    for env_run in run.runs:
        outcome, records = env_run.outcome, env_run.records
        if outcome.timed_out:
            line += f"; the run hit the overall time limit of {outcome.wall_s:g} s"
        elif outcome.stalled:
            line += "; the run stopped reporting progress and was ended"
        elif outcome.output_capped:
            line += "; the run was stopped because it printed too much output"
        elif not records.done and outcome.oom_killed:
            line += f"; the run exceeded the memory limit of {outcome.memory_mb} MB"
        elif not records.done:
            line += f"; the run ended early (exit code {outcome.exit_code})"
    return line


def _describe_exit(output: SandboxOutput, progress: ProgressSchedule) -> str:
    if output.timed_out:
        return "it did not get ready within the time limit"
    if output.stalled:
        return f"it reported nothing within its start-up allowance of {progress.startup_s:g} s"
    tail = output.log.decode("utf-8", errors="replace").strip().splitlines()[-LOG_TAIL_LINES:]
    return f"exit code {output.exit_code}, oom={output.oom_killed}: " + " | ".join(tail)
