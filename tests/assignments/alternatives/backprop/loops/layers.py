"""A correct backprop submission written with explicit loops (over rows, or over elements where
the arrays are small), boolean masks instead of np.where, and math.log for BCE.

Test fixture: tests/assignments/test_backprop_alternatives.py grades it with the hidden cases
and expects full marks on every seed (a suite must not reject a correct but different style).
"""

from __future__ import annotations

import math

import numpy as np


def linear_forward(x, W, b):
    out = np.empty((x.shape[0], W.shape[0]), dtype=np.result_type(x, W, b))
    for n in range(x.shape[0]):
        out[n] = W @ x[n] + b
    return out, (x, W)


def linear_backward(dout, cache):
    x, W = cache
    dx = np.empty_like(x)
    dW = np.zeros_like(W)
    db = np.zeros(W.shape[0], dtype=dout.dtype)
    for n in range(x.shape[0]):
        dx[n] = dout[n] @ W
        dW += dout[n][:, None] * x[n]
        db += dout[n]
    return dx, dW, db


def sigmoid_forward(x):
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out, out


def sigmoid_backward(dout, cache):
    dx = np.empty_like(dout)
    for n in range(dout.shape[0]):
        dx[n] = dout[n] * cache[n] * (1.0 - cache[n])
    return dx


def tanh_forward(x):
    out = np.empty_like(x)
    for n in range(x.shape[0]):
        out[n] = np.tanh(x[n])
    return out, out


def tanh_backward(dout, cache):
    dx = np.empty_like(dout)
    for n in range(dout.shape[0]):
        dx[n] = dout[n] * (1.0 - cache[n] ** 2)
    return dx


def relu_forward(x):
    out = x.copy()
    out[x <= 0] = 0
    return out, x


def relu_backward(dout, cache):
    dx = dout.copy()
    dx[cache <= 0] = 0
    return dx


def leaky_relu_forward(x, negative_slope=0.01):
    out = x.copy()
    neg = x <= 0
    out[neg] = negative_slope * x[neg]
    return out, {"x": x, "slope": negative_slope}


def leaky_relu_backward(dout, cache):
    dx = dout.copy()
    neg = cache["x"] <= 0
    dx[neg] = cache["slope"] * dout[neg]
    return dx


def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    dlogits = np.empty_like(logits)
    total = 0.0
    for i in range(n):
        row = logits[i]
        m = row.max()
        e = np.exp(row - m)
        s = e.sum()
        total += m + np.log(s) - row[y[i]]
        dlogits[i] = e / s
        dlogits[i, y[i]] -= 1.0
    dlogits /= n
    return float(total / n), dlogits


def _clamped_log(v: float) -> float:
    return max(math.log(v), -100.0) if v > 0 else -100.0


def binary_cross_entropy(p, y):
    flat_p, flat_y = p.ravel(), y.ravel()
    dp = np.empty_like(flat_p)
    total = 0.0
    for i in range(flat_p.size):
        pi, yi = float(flat_p[i]), float(flat_y[i])
        total += yi * _clamped_log(pi) + (1 - yi) * _clamped_log(1 - pi)
        dp[i] = (pi - yi) / max(pi * (1 - pi), 1e-12) / flat_p.size
    return -total / flat_p.size, dp.reshape(p.shape)


def bce_with_logits(z, y):
    flat_z, flat_y = z.ravel(), y.ravel()
    dz = np.empty_like(flat_z)
    total = 0.0
    for i in range(flat_z.size):
        zi, yi = float(flat_z[i]), float(flat_y[i])
        if zi >= 0:
            softplus, s = zi + math.log1p(math.exp(-zi)), 1.0 / (1.0 + math.exp(-zi))
        else:
            e = math.exp(zi)
            softplus, s = math.log1p(e), e / (1.0 + e)
        total += softplus - zi * yi
        dz[i] = (s - yi) / flat_z.size
    return total / flat_z.size, dz.reshape(z.shape)


def mse_loss(pred, target):
    dpred = np.empty_like(pred)
    total = 0.0
    for n in range(pred.shape[0]):
        diff = pred[n] - target[n]
        total += float(np.sum(diff * diff))
        dpred[n] = 2.0 * diff / pred.size
    return total / pred.size, dpred
