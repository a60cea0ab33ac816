"""Trusted checks for the rnn assignment, run on the worker (never in the sandbox).

train_adding: the sandbox returns the weights train_regressor learned (RNNRegressor.params);
this file runs the handout's model on them in NumPy (tanh RNN from h0 = 0, linear read-out of
the last hidden state) over the run's held-out sequences, which hidden/rundata.py kept on the
worker, and compares with their targets. The student's own predict is never called, so a
predict that computes the task in closed form earns nothing. Outputs are untrusted: any key may
be missing, of any shape, NaN; nothing here raises on them, and the feedback shows no held-out
value.
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 0.01  # held-out mean squared error
MAX_HIDDEN = 256  # hidden_dim is the student's choice; this bounds the worker's work
KEYS = ("W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out")


def regressor_predict(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """pred (N,) of RNNRegressor with these params for sequences x (N, T, D)."""
    h = np.zeros((x.shape[0], params["W_hh"].shape[0]))
    for t in range(x.shape[1]):
        h = np.tanh(
            x[:, t] @ params["W_ih"].T + params["b_ih"] + h @ params["W_hh"].T + params["b_hh"]
        )
    return h @ params["W_out"][0] + params["b_out"][0]


def _expected_shapes(outputs: dict, input_dim: int) -> tuple[dict | None, str]:
    """The shapes each parameter must have, from the hidden size W_hh declares."""
    w_hh = outputs.get("W_hh")
    shape = np.shape(w_hh) if w_hh is not None else None
    if shape is None:
        return None, "W_hh is missing"
    if len(shape) != 2 or shape[0] != shape[1] or not 1 <= shape[0] <= MAX_HIDDEN:
        return None, f"W_hh has shape {shape}, expected (H, H) with 1 <= H <= {MAX_HIDDEN}"
    H = shape[0]
    return {
        "W_ih": (H, input_dim),
        "W_hh": (H, H),
        "b_ih": (H,),
        "b_hh": (H,),
        "W_out": (1, H),
        "b_out": (1,),
    }, ""


def train_adding(outputs, reference, labels, held) -> tuple[bool, str]:
    """The returned RNNRegressor weights reach a held-out MSE <= THRESHOLD on this run's task."""
    if "adding_held_x" not in held or "adding_held_y" not in held:
        raise RuntimeError("no held-out sequences for this run (hidden/rundata.py did not run)")
    x = np.asarray(held["adding_held_x"], dtype=np.float64)
    y = np.asarray(held["adding_held_y"], dtype=np.float64)
    shapes, problem = _expected_shapes(outputs, x.shape[2])
    if shapes is None:
        return False, f"the trained params cannot be evaluated: {problem}"
    params, problems = {}, []
    for name, shape in shapes.items():
        value = outputs.get(name)
        array = None if value is None else np.asarray(value)
        if array is None:
            problems.append(f"{name} is missing")
        elif array.dtype.kind not in "biuf":
            problems.append(f"{name} is not a numeric array")
        elif array.shape != shape:
            problems.append(f"{name} has shape {array.shape}, expected {shape}")
        elif not np.all(np.isfinite(array)):
            problems.append(f"{name} contains NaN or infinite values")
        else:
            params[name] = array.astype(np.float64)
    if problems:
        return False, "the trained params cannot be evaluated: " + "; ".join(problems)
    with np.errstate(all="ignore"):
        mse = float(np.mean((regressor_predict(params, x) - y) ** 2))
    if not np.isfinite(mse):
        return False, "the trained params give non-finite predictions on held-out sequences"
    message = (
        f"held-out MSE {mse:.4g} on {y.size} sequences the sandbox never saw "
        f"(needed: at most {THRESHOLD:g})"
    )
    return mse <= THRESHOLD, message
