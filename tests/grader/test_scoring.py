"""Scoring is pure: allclose, metric and custom checks, and how run outcomes map to statuses."""

from __future__ import annotations

import numpy as np
import pytest

from grader.job import CaseStatus
from grader.package import CaseSpec
from grader.protocol import CaseRecord
from grader.scoring import (
    RunOutcome,
    check_allclose,
    check_metric,
    failed_record,
    load_checks,
    metric_value,
    run_custom,
    score_case,
    unreported,
)

SECRET = 123.456789  # an expected value that must never appear in feedback


def ref() -> dict[str, np.ndarray]:
    return {"out": np.full((3, 4), SECRET), "idx": np.arange(5)}


def test_allclose_passes_within_tolerance():
    """Values within rtol/atol pass; bool and int count as the same family."""
    student = {"out": np.full((3, 4), SECRET * (1 + 1e-8)), "idx": np.arange(5).astype(np.int32)}
    assert check_allclose(student, ref(), 1e-6, 1e-8) == (True, "matches the reference")
    assert check_allclose({"m": np.array([1, 0])}, {"m": np.array([True, False])}, 0, 0)[0]


def test_allclose_names_output_shape_and_largest_error_without_values():
    """Feedback: output name, index of the largest error, tolerance; never the expected value."""
    student = {"out": np.full((3, 4), SECRET), "idx": np.arange(5)}
    student["out"][2, 1] += 0.5
    ok, message = check_allclose(student, ref(), 1e-6, 1e-8)
    assert not ok
    assert (
        message
        == "output 'out': largest error 0.5 at index (2, 1) (tolerance rtol=1e-06, atol=1e-08)"
    )
    assert "123.4" not in message


@pytest.mark.parametrize(
    ("student", "expected"),
    [
        (
            {"out": np.zeros((4, 3)), "idx": np.arange(5)},
            "output 'out': expected shape (3, 4), got (4, 3)",
        ),
        (
            {"out": np.zeros(12), "idx": np.arange(5)},
            "output 'out': expected shape (3, 4), got (12,)",
        ),
        ({"idx": np.arange(5)}, "missing output 'out'"),
        ({**ref(), "extra": np.zeros(1)}, "unexpected output 'extra'"),
        (
            {"out": np.zeros((3, 4), np.int64), "idx": np.arange(5)},
            "output 'out': expected floating-point values, got dtype int64",
        ),
        (
            {"out": np.full((3, 4), SECRET), "idx": np.arange(5.0)},
            "output 'idx': expected integer or boolean values, got dtype float64",
        ),
    ],
)
def test_allclose_rejects_wrong_structure(student, expected):
    """Keys, exact shapes (no broadcasting) and dtype family are checked before values."""
    assert check_allclose(student, ref(), 1e-6, 1e-8) == (False, expected)


def test_allclose_rejects_nan_and_inf_even_where_tolerance_is_huge():
    """A NaN never passes (equal_nan=False), whatever the tolerance."""
    student = {"out": np.full((3, 4), SECRET), "idx": np.arange(5)}
    student["out"][1, 3] = np.nan
    ok, message = check_allclose(student, ref(), 1e9, 1e9)
    assert (ok, message) == (False, "output 'out': contains NaN or infinity at index (1, 3)")
    student["out"][1, 3] = np.inf
    assert not check_allclose(student, ref(), 1e9, 1e9)[0]


def test_allclose_scalar_output():
    """0-d outputs work and their feedback has no index."""
    ok, message = check_allclose({"loss": np.array(2.0)}, {"loss": np.array(1.0)}, 0, 1e-8)
    assert not ok and message.startswith("output 'loss': largest error 1 (tolerance")


def metric_spec(metric: str, threshold: float) -> CaseSpec:
    return CaseSpec(
        "m", 1, check="metric", output="p", labels="l.npy", metric=metric, threshold=threshold
    )


def test_accuracy_from_scores_labels_and_probabilities():
    """Accuracy uses argmax of 2-D scores, 1-D class ids as given, 1-D floats at 0.5."""
    labels = np.array([0, 1, 1, 0])
    assert metric_value("accuracy", np.array([[2, 1], [0, 3], [1, 0], [5, 1.0]]), labels) == 0.75
    assert metric_value("accuracy", np.array([0, 1, 1, 1]), labels) == 0.75
    assert metric_value("accuracy", np.array([0.1, 0.9, 0.6, 0.4]), labels) == 1.0


def test_metric_threshold_and_feedback():
    """accuracy must reach the threshold; cross_entropy and mse must stay under it."""
    labels = np.array([0, 1, 1, 0])
    good = {"p": np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])}
    assert check_metric(good, metric_spec("accuracy", 0.9), labels) == (
        True,
        "accuracy 1.0000 (needs at least 0.9)",
    )
    assert not check_metric({"p": np.array([0, 0, 0, 0])}, metric_spec("accuracy", 0.9), labels)[0]
    ok, message = check_metric(good, metric_spec("cross_entropy", 0.5), labels)
    assert ok and message.startswith("cross_entropy 0.")
    assert not check_metric(good, metric_spec("cross_entropy", 0.1), labels)[0]
    target = np.array([1.0, 2.0, 3.0])
    assert check_metric({"p": target + 0.1}, metric_spec("mse", 0.02), target)[0]
    assert not check_metric({"p": target + 1.0}, metric_spec("mse", 0.02), target)[0]


@pytest.mark.parametrize(
    ("metric", "pred", "expected"),
    [
        ("accuracy", np.zeros(3), "output 'p': expected 4 predictions, got shape (3,)"),
        ("accuracy", np.array([0, 1, np.nan, 0]), "output 'p': contains NaN or infinity"),
        ("cross_entropy", np.array([[2.0, -1.0]] * 4), "output 'p': expected probabilities"),
        ("mse", np.zeros((4, 1)), "output 'p': expected shape (4,), got (4, 1)"),
    ],
)
def test_metric_rejects_malformed_predictions(metric, pred, expected):
    """Malformed predictions fail with a message saying what is wrong with them."""
    ok, message = check_metric({"p": pred}, metric_spec(metric, 1.0), np.array([0, 1, 1, 0]))
    assert not ok and message.startswith(expected)


def test_metric_missing_output():
    assert check_metric({}, metric_spec("accuracy", 0.5), np.zeros(2)) == (
        False,
        "missing output 'p'",
    )


def test_custom_checks_load_and_run():
    """checks.py is executed as a module; a check that raises fails the case, not the run."""
    module = load_checks(
        b"def same(s, r, labels):\n    return s['x'].sum() == r['x'].sum(), 'ok'\n"
    )
    x = {"x": np.arange(3)}
    assert run_custom(module.same, x, x, None) == (True, "ok")
    ok, message = run_custom(module.same, {}, x, None)
    assert not ok and message.startswith("the check could not evaluate the outputs (KeyError")


OUTCOME = RunOutcome(wall_s=20, memory_mb=256)


@pytest.mark.parametrize(
    ("record", "outcome", "expected"),
    [
        (
            CaseRecord("timeout", "ran past its time limit of 3 s"),
            OUTCOME,
            (CaseStatus.TIMEOUT, "ran past its time limit of 3 s"),
        ),
        (
            CaseRecord("killed", "x"),
            RunOutcome(oom_killed=True, memory_mb=256),
            (CaseStatus.MEMORY, "exceeded the memory limit of 256 MB"),
        ),
        (CaseRecord("killed", "x"), OUTCOME, (CaseStatus.ERROR, "the case's process was killed")),
        (
            CaseRecord("raised", "MemoryError: "),
            OUTCOME,
            (CaseStatus.MEMORY, "exceeded the memory limit of 256 MB (MemoryError)"),
        ),
        (
            CaseRecord("raised", "ValueError: bad (ops.py line 3)"),
            OUTCOME,
            (CaseStatus.ERROR, "your code raised an exception"),
        ),
        (
            CaseRecord("error", "the case's process died (SIGSEGV)"),
            OUTCOME,
            (CaseStatus.ERROR, "the case's process died (SIGSEGV)"),
        ),
        (  # the student's exception cannot pose as a memory verdict of the harness
            CaseRecord("error", "MemoryError: "),
            OUTCOME,
            (CaseStatus.ERROR, "MemoryError: "),
        ),
    ],
)
def test_reported_failures_map_to_statuses(record, outcome, expected):
    assert failed_record(record, outcome) == expected


def test_unreported_cases_after_the_wall_clock():
    """The running case is a TIMEOUT naming the overall limit; the rest are NOT_RUN."""
    outcome = RunOutcome(timed_out=True, wall_s=20)
    assert unreported(True, outcome) == (
        CaseStatus.TIMEOUT,
        "the run hit the overall time limit of 20 s while this case was running",
    )
    assert unreported(False, outcome) == (
        CaseStatus.NOT_RUN,
        "not run: the run hit the overall time limit of 20 s",
    )
    assert unreported(True, RunOutcome(oom_killed=True, memory_mb=64))[0] == CaseStatus.MEMORY
    assert unreported(False, RunOutcome(exit_code=137)) == (
        CaseStatus.NOT_RUN,
        "not run: the run ended early (exit code 137)",
    )


def test_points_are_all_or_nothing():
    """A passed case earns all its points, anything else none; seconds come from the record."""
    spec = CaseSpec("c", 2.5)
    passed = score_case(spec, CaseRecord("ok", seconds=0.1), False, OUTCOME, lambda o: (True, "y"))
    failed = score_case(spec, CaseRecord("ok"), False, OUTCOME, lambda o: (False, "n"))
    missing = score_case(spec, None, False, OUTCOME, lambda o: (True, ""))
    assert (passed.status, passed.points, passed.max_points, passed.seconds) == (
        CaseStatus.PASSED,
        2.5,
        2.5,
        0.1,
    )
    assert (failed.status, failed.points, failed.feedback) == (CaseStatus.FAILED, 0.0, "n")
    assert (missing.status, missing.points) == (CaseStatus.NOT_RUN, 0.0)


def test_a_time_out_says_where_the_code_was_in_the_detail_not_the_feedback():
    spec = CaseSpec("c", 1.0)
    record = CaseRecord("timeout", "ran past its time limit of 3 s", 3.0, where="a.py line 7 in f")
    got = score_case(spec, record, False, OUTCOME, lambda o: (True, ""))
    assert (got.status, got.feedback) == (CaseStatus.TIMEOUT, "ran past its time limit of 3 s")
    assert got.detail == "where the code was: a.py line 7 in f"
    silent = score_case(
        spec, CaseRecord("timeout", "ran past"), False, OUTCOME, lambda o: (True, "")
    )
    assert silent.detail == ""
