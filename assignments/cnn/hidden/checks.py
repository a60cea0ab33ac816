"""Trusted checks for the cnn assignment, run on the worker (never in the sandbox).

train_digits: the sandbox returns the weights train_lenet learned; this file rebuilds the
handout's LeNetSmall forward pass in NumPy from those plain arrays (float64) and measures its
accuracy on the run's held-out digits, which hidden/rundata.py kept on the worker. The outputs
are untrusted: any key may be missing, of any shape or dtype, NaN; nothing here raises on them,
and the feedback never shows a held-out image or label.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

THRESHOLD = 0.9  # held-out accuracy
# The architecture the handout fixes: parameter names and shapes of LeNetSmall.
SHAPES = {
    "conv1.weight": (6, 1, 3, 3),
    "conv1.bias": (6,),
    "conv2.weight": (16, 6, 3, 3),
    "conv2.bias": (16,),
    "fc1.weight": (32, 64),
    "fc1.bias": (32,),
    "fc2.weight": (10, 32),
    "fc2.bias": (10,),
}


def _conv3x3_same(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """PyTorch's conv2d (cross-correlation), 3x3 kernel, stride 1, padding 1."""
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = sliding_window_view(xp, (3, 3), axis=(2, 3))  # (N, C, H, W, 3, 3)
    return np.einsum("nchwij,ocij->nohw", windows, w, optimize=True) + b[None, :, None, None]


def _relu_maxpool2(x: np.ndarray) -> np.ndarray:
    n, c, h, w = x.shape
    return np.maximum(x, 0.0).reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def lenet_logits(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """LeNetSmall's logits (N, 10) for images x (N, 1, 8, 8), from its state_dict arrays."""
    h = _relu_maxpool2(_conv3x3_same(x, params["conv1.weight"], params["conv1.bias"]))
    h = _relu_maxpool2(_conv3x3_same(h, params["conv2.weight"], params["conv2.bias"]))
    h = h.reshape(h.shape[0], -1)  # channel-major, as torch.flatten(x, 1)
    h = np.maximum(h @ params["fc1.weight"].T + params["fc1.bias"], 0.0)
    return h @ params["fc2.weight"].T + params["fc2.bias"]


def weights_problems(outputs: dict, shapes: dict[str, tuple]) -> tuple[dict, list[str]]:
    """The outputs as float64 arrays of the expected shapes, and what is wrong with them."""
    params, problems = {}, []
    for name, shape in shapes.items():
        value = outputs.get(name)
        if value is None:
            problems.append(f"{name} is missing")
            continue
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            problems.append(f"{name} is not a numeric array")
        elif array.shape != shape:
            problems.append(f"{name} has shape {array.shape}, expected {shape}")
        elif not np.all(np.isfinite(array)):
            problems.append(f"{name} contains NaN or infinite values")
        else:
            params[name] = array.astype(np.float64)
    return params, problems


def train_digits(outputs, reference, labels, held) -> tuple[bool, str]:
    """The returned LeNetSmall weights classify the run's held-out digits >= THRESHOLD."""
    if "digits_held_x" not in held or "digits_held_y" not in held:
        raise RuntimeError("no held-out digits for this run (hidden/rundata.py did not run)")
    params, problems = weights_problems(outputs, SHAPES)
    if problems:
        return False, "the trained weights cannot be evaluated: " + "; ".join(problems)
    x = np.asarray(held["digits_held_x"], dtype=np.float64)
    y = np.asarray(held["digits_held_y"])
    with np.errstate(all="ignore"):
        logits = lenet_logits(params, x)
    ok_rows = np.all(np.isfinite(logits), axis=1)  # an overflowing row counts as wrong
    accuracy = float(np.mean(ok_rows & (logits.argmax(axis=1) == y)))
    message = (
        f"held-out accuracy {accuracy:.1%} on {y.size} digits the sandbox never saw "
        f"(needed: at least {THRESHOLD:.0%})"
    )
    return accuracy >= THRESHOLD, message
