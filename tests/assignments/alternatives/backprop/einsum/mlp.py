"""The MLP, train() and numerical_gradient() of the einsum submission (see layers.py)."""

from __future__ import annotations

import numpy as np
from layers import (
    leaky_relu_backward,
    leaky_relu_forward,
    linear_backward,
    linear_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_cross_entropy,
    tanh_backward,
    tanh_forward,
)


class MLP:
    def __init__(self, dims, activation="relu", negative_slope=0.01, rng=None):
        rng = rng or np.random.default_rng()
        self.n_layers = len(dims) - 1
        acts = [activation] * (len(dims) - 2) if isinstance(activation, str) else activation
        self.table = []
        for name in acts:
            if name == "leaky_relu":
                self.table.append(
                    (lambda h: leaky_relu_forward(h, negative_slope), leaky_relu_backward)
                )
            else:
                self.table.append(
                    {
                        "sigmoid": (sigmoid_forward, sigmoid_backward),
                        "tanh": (tanh_forward, tanh_backward),
                        "relu": (relu_forward, relu_backward),
                    }[name]
                )
        self.params = {}
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True), start=1):
            self.params[f"W{i}"] = np.sqrt(2.0 / d_in) * rng.standard_normal((d_out, d_in))
            self.params[f"b{i}"] = np.zeros(d_out)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x):
        caches = []
        for i in range(1, self.n_layers + 1):
            x, lin = linear_forward(x, self.params[f"W{i}"], self.params[f"b{i}"])
            act = None
            if i <= len(self.table):
                x, act = self.table[i - 1][0](x)
            caches.append((lin, act))
        self.caches = caches
        return x

    def backward(self, dout):
        grads = {}
        for i in reversed(range(1, self.n_layers + 1)):
            lin, act = self.caches[i - 1]
            if act is not None:
                dout = self.table[i - 1][1](dout, act)
            dout, grads[f"W{i}"], grads[f"b{i}"] = linear_backward(dout, lin)
        self.grads = grads
        return dout


def train(net, x, y, epochs, lr, batch_size, rng):
    n = len(x)
    history = []
    for _ in range(epochs):
        losses = []
        for batch in np.array_split(rng.permutation(n), np.arange(batch_size, n, batch_size)):
            loss, dscores = softmax_cross_entropy(net.forward(x[batch]), y[batch])
            net.backward(dscores)
            # rebinding instead of -=: the same numbers in net.params
            net.params = {k: v - lr * net.grads[k] for k, v in net.params.items()}
            losses.append(loss)
        history.append(float(np.mean(losses)))
    return history


def numerical_gradient(f, x, h=1e-5):
    flat = np.array(x, dtype=np.float64).ravel()
    grad = np.empty_like(flat)
    for i in range(flat.size):
        step = np.zeros_like(flat)
        step[i] = h
        grad[i] = (f((flat + step).reshape(x.shape)) - f((flat - step).reshape(x.shape))) / (2 * h)
    return grad.reshape(x.shape)
