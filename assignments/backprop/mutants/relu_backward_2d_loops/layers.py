"""Layers and losses of a NumPy MLP.

MUTANT relu_backward_2d_loops: ReLU backward loops over rows and columns: assumes 2-D inputs
(fails on any other shape).

Every forward function returns (out, cache); the matching backward function takes
(dout, cache) and returns the gradient(s). Losses return (loss, dinput) and average
exactly as PyTorch's default reduction="mean" does. No function changes its inputs,
and array outputs keep the dtype of the inputs.
"""

from __future__ import annotations

import numpy as np

LOG_CLAMP = -100.0  # PyTorch's BCELoss clamps log(p) and log(1 - p) at -100
BCE_EPS = 1e-12  # PyTorch's BCELoss backward divides by max(p (1 - p), 1e-12)


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """out = x @ W.T + b for x (N, D_in), W (D_out, D_in), b (D_out,); out is (N, D_out)."""
    out = x @ W.T + b
    return out, (x, W)


def linear_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dW, db) of a linear layer, shaped like x, W and b."""
    x, W = cache
    dx = dout @ W
    dW = dout.T @ x
    db = dout.sum(axis=0)
    return dx, dW, db


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow: exp only ever sees non-positive numbers."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise logistic sigmoid; the cache is the output."""
    out = _stable_sigmoid(x)
    return out, out


def sigmoid_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout * s * (1 - s), where s is the forward output."""
    s = cache
    return dout * s * (1.0 - s)


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise tanh; the cache is the output."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout * (1 - t**2), where t is the forward output."""
    t = cache
    return dout * (1.0 - t * t)


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise max(x, 0); the cache is the input."""
    out = np.maximum(x, 0)
    return out, x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout where x > 0, else 0 (ReLU'(0) = 0, as in PyTorch)."""
    x = cache
    dx = dout.copy()
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if x[i, j] <= 0:
                dx[i, j] = 0
    return dx


def leaky_relu_forward(
    x: np.ndarray, negative_slope: float = 0.01
) -> tuple[np.ndarray, tuple[np.ndarray, float]]:
    """Elementwise x if x > 0 else negative_slope * x; the cache keeps x and the slope."""
    out = np.where(x > 0, x, negative_slope * x)
    return out, (x, negative_slope)


def leaky_relu_backward(dout: np.ndarray, cache: tuple[np.ndarray, float]) -> np.ndarray:
    """dx = dout where x > 0, else negative_slope * dout (slope also at exactly 0)."""
    x, negative_slope = cache
    return np.where(x > 0, dout, negative_slope * dout)


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of logits (N, C) against int labels y (N,); dlogits = (p - onehot)/N."""
    n = logits.shape[0]
    rows = np.arange(n)
    # Subtracting the row max keeps exp() from overflowing; softmax is unchanged by it.
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, y] -= 1
    dlogits /= n
    return float(loss), dlogits


def binary_cross_entropy(p: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean BCE of probabilities p against targets y in [0, 1]; logs clamped at -100 (PyTorch)."""
    with np.errstate(divide="ignore"):  # log(0) = -inf is expected here and clamped below
        log_p = np.maximum(np.log(p), LOG_CLAMP)
        log_1mp = np.maximum(np.log(1 - p), LOG_CLAMP)
    loss = -np.mean(y * log_p + (1 - y) * log_1mp)
    dp = (p - y) / np.maximum(p * (1 - p), BCE_EPS) / p.size
    return float(loss), dp


def bce_with_logits(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean BCE of sigmoid(z) against y, computed stably from logits z; dz = (sigmoid(z) - y)/n."""
    # log(1 + exp(z)) - z y, rewritten so exp() only sees non-positive numbers.
    per_element = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    loss = np.mean(per_element)
    dz = (_stable_sigmoid(z) - y) / z.size
    return float(loss), dz


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over ALL elements; dpred = 2 (pred - target) / pred.size."""
    diff = pred - target
    loss = np.mean(diff * diff)
    dpred = 2 * diff / diff.size
    return float(loss), dpred
