"""Helpers for the public tests: an independent numerical gradient and an error measure.

These are deliberately separate from your own mlp.numerical_gradient, so that a bug there
cannot hide a bug in your layers (and the other way round).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numeric_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6
) -> np.ndarray:
    """Central-difference gradient of the scalar f at x (x is restored after each step)."""
    grad = np.zeros_like(x, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = f(x)
        x[idx] = old - h
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """max |actual - expected| / (max |actual| + max |expected|): about 1e-9 when both agree."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    scale = np.max(np.abs(actual)) + np.max(np.abs(expected))
    return float(np.max(np.abs(actual - expected)) / max(scale, 1e-8))


def upstream_check(forward: Callable, x: np.ndarray, dout: np.ndarray, dx: np.ndarray) -> float:
    """rel_error between dx and the numerical gradient of sum(forward(x) * dout) at x."""
    x = np.array(x, dtype=np.float64)
    expected = numeric_gradient(lambda z: float(np.sum(forward(z) * dout)), x)
    return rel_error(dx, expected)
