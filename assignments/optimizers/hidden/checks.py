"""Trusted checks for the optimizers assignment (run OUTSIDE the sandbox on plain arrays).

A check takes the student's outputs, the reference outputs, the hidden labels (unused here)
and, for the training cases, `held`: the run's held-out digits from hidden/rundata.py, which
never enter the sandbox. It returns (ok, feedback). Student outputs are untrusted: any key may
be missing or malformed, so every read is guarded (_indices, _weights); minibatches takes its
sizes from the reference run; the training cases evaluate the returned softmax-regression
weights here, with their own forward pass, and show only the accuracy or loss reached.
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
        _coverage_problem(_indices(student, "default_rng_order"), n, "rng=None"),
        _size_problem(_indices(student, "epoch1_sizes"), full, "drop_last=False"),
        _size_problem(_indices(student, "unshuffled_sizes"), full, "shuffle=False"),
        _size_problem(_indices(student, "drop_last_sizes"), full[full == batch], "drop_last=True"),
        _size_problem(_indices(student, "default_rng_sizes"), full, "rng=None"),
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


# ---------------------------------------------------------------- training on held-out digits

ADAM_MIN_ACCURACY = 0.9
SGD_MAX_CROSS_ENTROPY = 0.4
PIXEL_MAX = 16.0  # the cases scale the uint8 pixel counts by this, and so does _log_probs
WEIGHT_SHAPES = {"W": (64, 10), "b": (10,)}  # softmax regression: logits = x @ W + b


def _held_out(held: dict) -> tuple[np.ndarray, np.ndarray]:
    """The run's held-out digits (pixels scaled like the cases scale them) and labels."""
    if "held_x" not in held or "held_y" not in held:  # the suite's or the worker's fault
        raise RuntimeError("no held-out digits for this run: hidden/rundata.py's data is missing")
    return held["held_x"].astype(np.float64) / PIXEL_MAX, held["held_y"].astype(np.int64)


def _shape(shape: tuple) -> str:
    return str(tuple(int(d) for d in shape))


def _weights(outputs: dict) -> tuple[dict | None, str]:
    """W and b as finite float64 arrays of the right shapes, or (None, what is wrong)."""
    weights = {}
    for name, shape in WEIGHT_SHAPES.items():
        if name not in outputs:
            return None, f"no trained {name!r} came back"
        try:
            array = np.asarray(outputs[name])
        except Exception:  # noqa: BLE001 - untrusted value
            return None, f"{name!r} is not an array"
        if array.dtype.kind not in "iuf":
            return None, f"{name!r}: expected numbers, got dtype {array.dtype}"
        if array.shape != shape:
            return None, f"{name!r}: expected shape {_shape(shape)}, got {_shape(array.shape)}"
        array = array.astype(np.float64)
        if not np.isfinite(array).all():
            return None, (
                f"the trained {name!r} contains NaN or infinity (did your optimizer diverge, "
                "or divide by zero?)"
            )
        weights[name] = array
    return weights, ""


def _log_probs(weights: dict, held: dict) -> np.ndarray:
    """Log-softmax of the held-out logits (rows that overflow come out non-finite)."""
    x, _ = _held_out(held)
    with np.errstate(all="ignore"):
        logits = x @ weights["W"] + weights["b"]
        shifted = logits - logits.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def train_digits_adam(student: dict, reference: dict, labels, held: dict) -> tuple[bool, str]:
    """Held-out accuracy of the weights trained with the student's Adam."""
    weights, problem = _weights(student)
    if weights is None:
        return False, problem
    _, y = _held_out(held)
    log_probs = _log_probs(weights, held)
    finite = np.isfinite(log_probs).all(axis=1)
    predicted = np.argmax(np.where(np.isfinite(log_probs), log_probs, -np.inf), axis=1)
    accuracy = float(np.mean(finite & (predicted == y)))
    message = (
        f"accuracy of the trained weights on {len(y)} held-out digits: {accuracy:.4f} "
        f"(needs at least {ADAM_MIN_ACCURACY:g})"
    )
    if not finite.all():
        message += f"; the logits overflowed on {int((~finite).sum())} of them"
    return accuracy >= ADAM_MIN_ACCURACY, message


def train_digits_sgd(student: dict, reference: dict, labels, held: dict) -> tuple[bool, str]:
    """Held-out mean cross-entropy of the weights trained with the student's SGD + StepLR."""
    weights, problem = _weights(student)
    if weights is None:
        return False, problem
    _, y = _held_out(held)
    picked = _log_probs(weights, held)[np.arange(len(y)), y]
    if not np.isfinite(picked).all():
        return False, (
            f"the trained weights give non-finite held-out losses on "
            f"{int((~np.isfinite(picked)).sum())} of {len(y)} digits"
        )
    loss = float(-np.mean(np.maximum(picked, np.log(1e-12))))
    return loss <= SGD_MAX_CROSS_ENTROPY, (
        f"cross-entropy of the trained weights on {len(y)} held-out digits: {loss:.4g} "
        f"(needs at most {SGD_MAX_CROSS_ENTROPY:g})"
    )
