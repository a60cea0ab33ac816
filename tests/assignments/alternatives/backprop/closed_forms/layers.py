"""A correct backprop submission with other closed forms than the reference's: sigmoid as
exp(-softplus(-x)), dW as (x.T @ dout).T, db as ones @ dout, BCE-with-logits as
softplus(-z) + (1 - y) z, BCE's clamp as log(max(p, e^-100)), MSE's gradient as (d + d) / n.

Test fixture: tests/assignments/test_backprop_alternatives.py grades it with the hidden cases
and expects full marks on every seed.
"""

from __future__ import annotations

import numpy as np

LOG_FLOOR = np.exp(-100.0)  # log(max(p, e^-100)) == max(log p, -100)


def _softplus(t):
    """log(1 + e^t) without overflow."""
    return np.maximum(t, 0) + np.log1p(np.exp(-np.abs(t)))


def linear_forward(x, W, b):
    return np.dot(x, W.T) + b, (x, W)


def linear_backward(dout, cache):
    x, W = cache
    dx = np.dot(dout, W)
    dW = np.dot(x.T, dout).T
    db = np.ones(dout.shape[0], dtype=dout.dtype) @ dout
    return dx, dW, db


def sigmoid_forward(x):
    s = np.exp(-_softplus(-x))
    return s, s


def sigmoid_backward(dout, cache):
    return dout * (cache - cache**2)


def tanh_forward(x):
    t = np.tanh(x)
    return t, t


def tanh_backward(dout, cache):
    return dout * (1 - cache) * (1 + cache)


def relu_forward(x):
    return x * (x > 0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def leaky_relu_forward(x, negative_slope=0.01):
    return np.where(x > 0, x, x * negative_slope), (x, negative_slope)


def leaky_relu_backward(dout, cache):
    x, slope = cache
    return dout * (x > 0) + slope * dout * (x <= 0)


def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    picked = np.take_along_axis(log_softmax, np.asarray(y).reshape(-1, 1), axis=1)
    onehot = np.arange(logits.shape[1]) == np.asarray(y).reshape(-1, 1)
    return float(-np.sum(picked) / n), (np.exp(log_softmax) - onehot) / n


def binary_cross_entropy(p, y):
    log_p = np.log(np.maximum(p, LOG_FLOOR))
    log_q = np.log(np.maximum(1 - p, LOG_FLOOR))
    loss = -np.sum(y * log_p + (1 - y) * log_q) / p.size
    dp = (p - y) / np.maximum(p * (1 - p), 1e-12) / p.size
    return float(loss), dp


def bce_with_logits(z, y):
    loss = np.sum(_softplus(-z) + (1 - y) * z) / z.size
    s = np.exp(-_softplus(-z))
    return float(loss), (s - y) / z.size


def mse_loss(pred, target):
    d = pred - target
    return float(np.sum(d**2) / d.size), (d + d) / d.size
