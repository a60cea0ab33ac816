"""Central-difference gradient checks for the public tests (float64 only)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numeric_gradient(f: Callable[[], np.ndarray], x: np.ndarray, dout: np.ndarray) -> np.ndarray:
    """d sum(f() * dout) / dx by central differences; f reads x, which is perturbed in place."""
    grad = np.zeros_like(x)
    step = 1e-5
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + step
        plus = np.sum(f() * dout)
        x[idx] = old - step
        minus = np.sum(f() * dout)
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * step)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|): near 1e-9 when right, near 1 when a formula is wrong."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, f"shape {a.shape} != expected {b.shape}"
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-12))


def assert_gradients(analytic: dict, f: Callable[[], np.ndarray], inputs: dict, dout) -> None:
    """Every analytic gradient (by input name) matches its numeric estimate to 1e-6."""
    for name, grad in analytic.items():
        expected = numeric_gradient(f, inputs[name], dout)
        err = rel_error(grad, expected)
        assert err < 1e-6, f"d{name}: relative error {err:.2e} against finite differences"
