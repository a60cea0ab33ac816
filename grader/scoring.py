"""Scoring, outside the sandbox: compare a case's outputs with the reference or hidden labels.

Pure functions on plain arrays. Points are all-or-nothing per case. Feedback names the output,
the expected shape and the largest error with its index; it never shows expected values.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from grader.job import CaseOutcome, CaseStatus
from grader.package import CaseSpec
from grader.protocol import CaseRecord
from grader.rundata import load_trusted

Outputs = dict[str, np.ndarray]
# check(student, reference, labels) or check(student, reference, labels, held): `held` is the
# run's held-out data from hidden/rundata.py (never in the sandbox).
CustomCheck = Callable[..., tuple[bool, str]]
# How PyTorch words running out of GPU memory: torch.OutOfMemoryError (torch.cuda's alias has
# the same name), and the RuntimeErrors of older releases and of kernels that allocate.
GPU_OOM_RE = re.compile(
    r"^(?:torch\.)?(?:cuda\.)?OutOfMemoryError\b|CUDA (?:error: )?out of memory"
)
# What the grader itself says of a case whose code raised; the exception text is the case's
# `detail` (the student's own words), shown as the case's visibility allows.
RAISED_FEEDBACK = "your code raised an exception"
PROB_TOLERANCE = 1e-3  # rows of probabilities must sum to 1 within this
LOG_FLOOR = 1e-12  # log(0) guard for cross-entropy


@dataclass(frozen=True)
class RunOutcome:
    """How a sandbox run ended, as far as scoring needs to know."""

    timed_out: bool = False
    oom_killed: bool = False
    output_capped: bool = False
    exit_code: int | None = 0
    wall_s: float = 120.0
    memory_mb: int = 1024
    gpu_memory_mb: int = 0  # the run's GPU memory cap (0: the whole device)
    # Ended by the progress watchdog (grader/sandbox.py): the harness stopped reporting.
    stalled: bool = False
    stall_s: float = 0.0  # the time limit of the case that was running then (0: none was)


def score_case(
    spec: CaseSpec,
    record: CaseRecord | None,
    running: bool,
    outcome: RunOutcome,
    check: Callable[[Outputs], tuple[bool, str]],
) -> CaseOutcome:
    """One CaseOutcome: `check` judges outputs of a case that ran to the end."""
    if record is None:
        status, feedback = unreported(running, outcome)
    elif record.status == "ok":
        ok, feedback = check(record.outputs)
        status = CaseStatus.PASSED if ok else CaseStatus.FAILED
    else:
        status, feedback = failed_record(record, outcome)
    points = float(spec.points) if status == CaseStatus.PASSED else 0.0
    seconds = record.seconds if record is not None else None
    detail = case_detail(record)
    return CaseOutcome(spec.name, points, float(spec.points), status, feedback, seconds, detail)


def case_detail(record: CaseRecord | None) -> str:
    """The student's own words about a case that did not finish: the exception it raised, or
    where its code was when it ran out of time."""
    if record is None:
        return ""
    if record.status == "raised":
        return record.message
    if record.status == "timeout" and record.where:
        return f"where the code was: {record.where}"
    return ""


def memory_message(outcome: RunOutcome) -> str:
    return f"exceeded the memory limit of {outcome.memory_mb} MB"


def gpu_memory_message(outcome: RunOutcome) -> str:
    """'GPU out of memory (limit N MiB)': the grader's words only. Where it happened is in the
    exception text, the case's detail (student-chosen, shown as its visibility allows)."""
    limit = f"limit {outcome.gpu_memory_mb} MiB" if outcome.gpu_memory_mb > 0 else "whole GPU"
    return f"GPU out of memory ({limit})"


def failed_record(record: CaseRecord, outcome: RunOutcome) -> tuple[CaseStatus, str]:
    """Status for a case the harness reported as error, timeout or killed."""
    if record.status == "timeout":
        return CaseStatus.TIMEOUT, record.message
    if record.status == "killed":
        if outcome.oom_killed:
            return CaseStatus.MEMORY, memory_message(outcome)
        return CaseStatus.ERROR, "the case's process was killed"
    if record.status != "raised":  # the harness's own words
        return CaseStatus.ERROR, record.message
    if GPU_OOM_RE.search(record.message):
        return CaseStatus.MEMORY, gpu_memory_message(outcome)
    if record.message.startswith("MemoryError"):
        return CaseStatus.MEMORY, f"{memory_message(outcome)} (MemoryError)"
    return CaseStatus.ERROR, RAISED_FEEDBACK


def unreported(running: bool, outcome: RunOutcome) -> tuple[CaseStatus, str]:
    """Status for a case with no record: it was running when the run ended, or never began."""
    if outcome.timed_out:
        reason = f"the run hit the overall time limit of {outcome.wall_s:g} s"
        status = CaseStatus.TIMEOUT
    elif outcome.stalled:
        if running:
            limit = f"{outcome.stall_s:g} s"
            return CaseStatus.TIMEOUT, (
                f"the run stopped reporting progress: ended after this case's time limit of {limit}"
            )
        return CaseStatus.NOT_RUN, "not run: the run stopped reporting progress before this case"
    elif outcome.oom_killed:
        reason = f"the run {memory_message(outcome)}"
        status = CaseStatus.MEMORY
    elif outcome.output_capped:
        reason = "the run was stopped because it printed too much output"
        status = CaseStatus.ERROR
    else:
        reason = f"the run ended early (exit code {outcome.exit_code})"
        status = CaseStatus.ERROR
    if running:
        return status, f"{reason} while this case was running"
    return CaseStatus.NOT_RUN, f"not run: {reason}"


def check_allclose(student: Outputs, reference: Outputs, rtol: float, atol: float):
    """Same keys, exact shapes, same dtype family, finite, numpy.allclose(student, reference)."""
    missing = sorted(set(reference) - set(student))
    extra = sorted(set(student) - set(reference))
    if missing:
        return False, f"missing output {_names(missing)}"
    if extra:
        return False, f"unexpected output {_names(extra)}"
    for key in reference:
        ok, message = compare_array(key, student[key], reference[key], rtol, atol)
        if not ok:
            return False, message
    return True, "matches the reference"


def compare_array(key: str, got: np.ndarray, want: np.ndarray, rtol: float, atol: float):
    """(ok, feedback) for one output; feedback never contains expected values."""
    if got.shape != want.shape:
        return False, f"output {key!r}: expected shape {_shape(want)}, got {_shape(got)}"
    if _family(got.dtype) != _family(want.dtype):
        return False, (
            f"output {key!r}: expected {_family(want.dtype)} values, got dtype {got.dtype}"
        )
    g, w = got.astype(np.float64), want.astype(np.float64)
    bad = ~np.isfinite(g)
    if bad.any():
        where = _index(np.argmax(bad), got.shape)
        return False, f"output {key!r}: contains NaN or infinity{where}"
    if np.allclose(g, w, rtol=rtol, atol=atol, equal_nan=False):
        return True, ""
    err = np.abs(g - w)
    where = _index(np.argmax(err), got.shape)
    return False, (
        f"output {key!r}: largest error {err.max():.3g}{where} "
        f"(tolerance rtol={rtol:g}, atol={atol:g})"
    )


def check_metric(student: Outputs, spec: CaseSpec, labels: np.ndarray):
    """accuracy >= threshold; cross_entropy and mse <= threshold (computed on hidden labels)."""
    if spec.output not in student:
        return False, f"missing output {spec.output!r}"
    try:
        value = metric_value(spec.metric or "", student[spec.output], labels)
    except ValueError as exc:
        return False, f"output {spec.output!r}: {exc}"
    threshold = float(spec.threshold or 0.0)
    if spec.metric == "accuracy":
        return value >= threshold, f"accuracy {value:.4f} (needs at least {threshold:g})"
    return value <= threshold, f"{spec.metric} {value:.4g} (needs at most {threshold:g})"


def metric_value(metric: str, pred: np.ndarray, labels: np.ndarray) -> float:
    """The metric of predictions against labels; ValueError says what is wrong with pred."""
    n = labels.shape[0]
    if pred.ndim == 0 or pred.shape[0] != n:
        raise ValueError(f"expected {n} predictions, got shape {_shape(pred)}")
    values = pred.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("contains NaN or infinity")
    if metric == "accuracy":
        return float(np.mean(_classes(pred) == labels.reshape(n)))
    if metric == "cross_entropy":
        return _cross_entropy(values, labels.reshape(n).astype(np.int64))
    if metric == "mse":
        if pred.shape != labels.shape:
            raise ValueError(f"expected shape {_shape(labels)}, got {_shape(pred)}")
        return float(np.mean((values - labels.astype(np.float64)) ** 2))
    raise ValueError(f"unknown metric {metric!r}")


def _classes(pred: np.ndarray) -> np.ndarray:
    """Class per row: argmax of 2-D scores, 1-D labels as given, 1-D floats thresholded at 0.5."""
    if pred.ndim == 2:
        return np.argmax(pred, axis=1)
    if pred.ndim != 1:
        raise ValueError(f"expected class labels or a 2-D array of scores, got {_shape(pred)}")
    return (pred >= 0.5).astype(np.int64) if pred.dtype.kind == "f" else pred.astype(np.int64)


def _cross_entropy(probs: np.ndarray, labels: np.ndarray) -> float:
    if probs.ndim == 1:  # binary: probability of class 1
        probs = np.stack([1.0 - probs, probs], axis=1)
    if probs.ndim != 2 or labels.min() < 0 or labels.max() >= probs.shape[1]:
        raise ValueError(f"expected an (N, classes) array of probabilities, got {_shape(probs)}")
    if probs.min() < 0 or probs.max() > 1 or np.abs(probs.sum(axis=1) - 1).max() > PROB_TOLERANCE:
        raise ValueError("expected probabilities (each row between 0 and 1, summing to 1)")
    picked = probs[np.arange(labels.shape[0]), labels]
    return float(-np.mean(np.log(np.clip(picked, LOG_FLOOR, 1.0))))


def load_checks(source: bytes, origin: str = "hidden/checks.py") -> types.ModuleType:
    """Execute the package's trusted checks.py (on the worker) and return it as a module."""
    return load_trusted(source, origin, "_dlgrader_checks")


def run_custom(
    fn: CustomCheck,
    student: Outputs,
    reference: Outputs,
    labels: np.ndarray | None,
    held: Outputs | None = None,
) -> tuple[bool, str]:
    """Call a custom check; an exception in it means the outputs could not be judged: failed."""
    args = (student, reference, labels)
    if _positional_count(fn) >= 4:
        args += (dict(held or {}),)
    try:
        result = fn(*args)
        ok, message = result
    except Exception as exc:
        return False, f"the check could not evaluate the outputs ({type(exc).__name__}: {exc})"
    return bool(ok), str(message)


def _positional_count(fn: Callable) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 3
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds for p in params)


def _family(dtype: np.dtype) -> str:
    return "floating-point" if dtype.kind == "f" else "integer or boolean"


def _shape(array: np.ndarray) -> str:
    return str(tuple(int(d) for d in array.shape))


def _index(flat: int | np.integer, shape: tuple[int, ...]) -> str:
    if not shape:
        return ""
    return f" at index {tuple(int(i) for i in np.unravel_index(int(flat), shape))}"


def _names(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names)
