"""Trusted checks for the backprop assignment (run OUTSIDE the sandbox, on the worker).

train_digits returns the parameters the student's train() learned, not predictions. This file
runs its own forward pass (plain NumPy: linear, ReLU, linear) on the run's held-out images from
hidden/rundata.py (`held`, never in the sandbox) and scores it against their labels.

Outputs are untrusted: any key may be missing, of any shape or dtype, or full of NaN. Nothing
here raises on them; the feedback says what is wrong without showing held-out values.
"""

from __future__ import annotations

import numpy as np

MIN_ACCURACY = 0.9
PIXEL_MAX = 16.0  # the case scales the uint8 pixels by this, and so does the forward pass here
# MLP([64, 64, 10], "relu"): the handout fixes these names and shapes.
SHAPES = {"W1": (64, 64), "b1": (64,), "W2": (10, 64), "b2": (10,)}


def _held_out(held: dict) -> tuple[np.ndarray, np.ndarray]:
    """The run's held-out digits (pixels scaled like the cases scale them) and labels."""
    if "held_x" not in held or "held_y" not in held:  # the suite's or the worker's fault
        raise RuntimeError("no held-out digits for this run: hidden/rundata.py's data is missing")
    return held["held_x"].astype(np.float64) / PIXEL_MAX, held["held_y"].astype(np.int64)


def _shape(shape: tuple) -> str:
    return str(tuple(int(d) for d in shape))


def learned_parameters(outputs: dict, shapes: dict) -> tuple[dict | None, str]:
    """The outputs named in `shapes` as finite float64 arrays of those shapes, or (None, why)."""
    params = {}
    for name, shape in shapes.items():
        if name not in outputs:
            return None, (
                f"no trained {name!r} came back (net.params[{name!r}] after train() must be "
                "a numeric array)"
            )
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
            return None, f"{name!r} contains NaN or infinity after training (did training diverge?)"
        params[name] = array
    return params, ""


def mlp_scores(params: dict, x: np.ndarray) -> np.ndarray:
    """Scores of MLP([64, 64, 10], "relu") for x, computed here (trusted)."""
    with np.errstate(all="ignore"):
        hidden = np.maximum(x @ params["W1"].T + params["b1"], 0.0)
        return hidden @ params["W2"].T + params["b2"]


def train_digits(outputs: dict, reference: dict, labels, held: dict) -> tuple[bool, str]:
    """Held-out accuracy of the trained MLP parameters >= MIN_ACCURACY."""
    params, problem = learned_parameters(outputs, SHAPES)
    if params is None:
        return False, problem
    x, y = _held_out(held)
    scores = mlp_scores(params, x)
    finite = np.isfinite(scores).all(axis=1)
    predicted = np.argmax(np.where(np.isfinite(scores), scores, -np.inf), axis=1)
    accuracy = float(np.mean(finite & (predicted == y)))
    message = (
        f"your trained network's accuracy on {len(y)} held-out digits: {accuracy:.4f} "
        f"(needs at least {MIN_ACCURACY:g})"
    )
    if not finite.all():
        message += f"; its scores overflowed on {int((~finite).sum())} of them"
    return accuracy >= MIN_ACCURACY, message
