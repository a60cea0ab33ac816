"""A correct backprop submission written with einsum and other formulas than the reference's:
sigmoid through tanh, log-sum-exp for the cross-entropy, one-hot matrices, np.logaddexp for
BCE-with-logits, p - p*p for the BCE denominator.

Test fixture: tests/assignments/test_backprop_alternatives.py grades it with the hidden cases
and expects full marks on every seed.
"""

from __future__ import annotations

import numpy as np


def linear_forward(x, W, b):
    return np.einsum("ni,oi->no", x, W) + b, (x, W)


def linear_backward(dout, cache):
    x, W = cache
    return (
        np.einsum("no,oi->ni", dout, W),
        np.einsum("no,ni->oi", dout, x),
        np.einsum("no->o", dout),
    )


def sigmoid_forward(x):
    s = 0.5 * (1.0 + np.tanh(0.5 * x))  # the same function; tanh never overflows
    return s, s


def sigmoid_backward(dout, cache):
    return np.einsum("...,...->...", dout, cache * (1.0 - cache))


def tanh_forward(x):
    # tanh(x) = sign(x) (1 - e^(-2|x|)) / (1 + e^(-2|x|)): exp only sees non-positive numbers
    e = np.exp(-2.0 * np.abs(x))
    t = np.sign(x) * (1.0 - e) / (1.0 + e)
    return t, t


def tanh_backward(dout, cache):
    return dout - dout * cache * cache


def relu_forward(x):
    return np.where(x > 0, x, np.zeros_like(x)), x


def relu_backward(dout, cache):
    return np.where(cache > 0, dout, np.zeros_like(dout))


def leaky_relu_forward(x, negative_slope=0.01):
    # the slopes the course uses are in [0, 1], where leaky ReLU is max(x, slope * x)
    return np.maximum(x, negative_slope * x), (x > 0, negative_slope)


def leaky_relu_backward(dout, cache):
    positive, slope = cache
    factor = np.where(positive, 1.0, slope).astype(dout.dtype)
    return dout * factor


def softmax_cross_entropy(logits, y):
    n, c = logits.shape
    m = np.max(logits, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
    onehot = np.eye(c, dtype=logits.dtype)[y]
    loss = np.sum((lse - logits) * onehot) / n
    probs = np.exp(logits - lse)
    return float(loss), (probs - onehot) / n


def binary_cross_entropy(p, y):
    with np.errstate(divide="ignore"):
        log_p = np.clip(np.log(p), -100.0, None)
        log_q = np.clip(np.log1p(-p), -100.0, None)
    loss = -np.mean(y * log_p + (1.0 - y) * log_q)
    dp = (p - y) / np.clip(p - p * p, 1e-12, None) / p.size
    return float(loss), dp


def bce_with_logits(z, y):
    loss = np.mean(np.logaddexp(0.0, z) - z * y)
    s = 0.5 * (1.0 + np.tanh(0.5 * z))
    return float(loss), (s - y) / z.size


def mse_loss(pred, target):
    d = pred - target
    return float(np.mean(np.square(d))), d * (2.0 / d.size)
