"""Trusted checks for the optimizers assignment (run OUTSIDE the sandbox on plain arrays).

A check takes the student's outputs, the reference outputs and the hidden labels (unused here)
and returns (ok, feedback). Student outputs are untrusted: any key may be missing or malformed,
so every read goes through _indices, and sizes come from the reference run.
"""

from __future__ import annotations

import numpy as np


def _indices(outputs: dict, key: str) -> np.ndarray | None:
    """outputs[key] as a 1-D int64 array, or None when it is missing or not integral."""
    try:
        arr = np.asarray(outputs[key])
        if arr.ndim != 1 or arr.dtype.kind not in "iuf":
            return None
        if arr.dtype.kind == "f" and not np.array_equal(arr, np.round(arr)):
            return None
        return arr.astype(np.int64)
    except (KeyError, TypeError, ValueError):
        return None


def _number(outputs: dict, key: str) -> int:
    """A single integer output (0-d, or 1-element: the transport may add a dimension)."""
    return int(np.asarray(outputs[key]).reshape(-1)[0])


def _flag(outputs: dict, key: str) -> bool:
    """outputs[key] is a single true value."""
    value = np.asarray(outputs.get(key, False))
    return value.size == 1 and value.dtype.kind in "biuf" and bool(value.reshape(-1)[0])


def _is_permutation(order: np.ndarray, n: int) -> bool:
    return len(order) == n and np.array_equal(np.sort(order), np.arange(n))


def _coverage_problem(order: np.ndarray | None, n: int, what: str) -> str | None:
    """Say which samples were missed or repeated, or None when every index appears once."""
    if order is None:
        return f"{what}: no batches came back"
    if _is_permutation(order, n):
        return None
    counts = np.bincount(order[(order >= 0) & (order < n)], minlength=n)
    missing, repeated = np.flatnonzero(counts == 0), np.flatnonzero(counts > 1)
    return (
        f"{what}: every sample must appear exactly once per epoch "
        f"({len(missing)} of {n} samples missing, {len(repeated)} repeated)"
    )


def _size_problem(sizes: np.ndarray | None, expected: np.ndarray, what: str) -> str | None:
    if sizes is not None and np.array_equal(sizes, expected):
        return None
    got = "nothing" if sizes is None else sizes.tolist()
    return f"{what}: batch sizes should be {expected.tolist()}, got {got}"


def minibatches(student: dict, reference: dict, labels) -> tuple[bool, str]:
    """iterate_minibatches: coverage, batch sizes, X/y pairing, reproducibility, reshuffling."""
    n, batch = _number(reference, "n"), _number(reference, "batch_size")
    full = np.array([batch] * (n // batch) + [n % batch] * (n % batch > 0), dtype=np.int64)
    epoch1, epoch2 = _indices(student, "epoch1_order"), _indices(student, "epoch2_order")
    problems = [
        _coverage_problem(epoch1, n, "epoch 1"),
        _coverage_problem(epoch2, n, "epoch 2"),
        _coverage_problem(_indices(student, "unshuffled_order"), n, "shuffle=False"),
        _size_problem(_indices(student, "epoch1_sizes"), full, "drop_last=False"),
        _size_problem(_indices(student, "unshuffled_sizes"), full, "shuffle=False"),
        _size_problem(_indices(student, "drop_last_sizes"), full[full == batch], "drop_last=True"),
    ]
    if not (_flag(student, "epoch1_paired") and _flag(student, "epoch2_paired")):
        problems.append("X and y must be indexed with the same indices: the (x, y) pairs broke")
    problems += _order_problems(student, n, batch, epoch1, epoch2)
    problems = [p for p in problems if p]
    if problems:
        return False, "; ".join(problems)
    return True, "every sample once per epoch, correct batch sizes, seeded and reshuffled"


def _order_problems(student: dict, n: int, batch: int, epoch1, epoch2) -> list[str | None]:
    """The properties of the visiting order that hold only when the coverage is right."""
    if epoch1 is None or epoch2 is None or not _is_permutation(epoch1, n):
        return []
    problems: list[str | None] = []
    if np.array_equal(epoch1, np.arange(n)):
        problems.append("shuffle=True returned the samples in their original order")
    if np.array_equal(epoch1, epoch2):
        problems.append(
            "two epochs drawn from the same rng came out in the same order: "
            "draw a new permutation from rng on every call"
        )
    reseeded = _indices(student, "reseeded_order")
    if reseeded is None or not np.array_equal(reseeded, epoch1):
        problems.append(
            "a generator with the same seed must reproduce the same order: "
            "take all randomness from the rng argument"
        )
    unshuffled = _indices(student, "unshuffled_order")
    if unshuffled is not None and not np.array_equal(unshuffled, np.arange(n)):
        problems.append("shuffle=False must keep the original order 0, 1, ..., n-1")
    dropped = _indices(student, "drop_last_order")
    keep = batch * (n // batch)
    if dropped is None or len(dropped) != keep or len(np.unique(dropped)) != keep:
        problems.append(f"drop_last=True must yield {keep} distinct samples in full batches")
    return problems
