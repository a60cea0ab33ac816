"""The MLP, train() and numerical_gradient() of the loops submission (see layers.py)."""

from __future__ import annotations

import layers
import numpy as np

FORWARD = {
    "sigmoid": layers.sigmoid_forward,
    "tanh": layers.tanh_forward,
    "relu": layers.relu_forward,
}
BACKWARD = {
    "sigmoid": layers.sigmoid_backward,
    "tanh": layers.tanh_backward,
    "relu": layers.relu_backward,
    "leaky_relu": layers.leaky_relu_backward,
}


class MLP:
    def __init__(self, dims, activation="relu", negative_slope=0.01, rng=None):
        if rng is None:
            rng = np.random.default_rng()
        self.L = len(dims) - 1
        if isinstance(activation, str):
            self.acts = [activation for _ in range(self.L - 1)]
        else:
            self.acts = list(activation)
        self.slope = negative_slope
        self.params = {}
        self.grads = {}
        i = 1
        while i <= self.L:
            # the same numbers as * sqrt(2 / fan_in), rounded differently
            W = rng.standard_normal(size=(dims[i], dims[i - 1])) / np.sqrt(dims[i - 1] / 2.0)
            self.params["W" + str(i)] = W
            self.params["b" + str(i)] = np.zeros(dims[i])
            self.grads["W" + str(i)] = np.zeros_like(W)
            self.grads["b" + str(i)] = np.zeros(dims[i])
            i += 1
        self.tape = []

    def forward(self, x):
        self.tape = []
        h = x
        for i in range(1, self.L + 1):
            h, lin = layers.linear_forward(h, self.params["W" + str(i)], self.params["b" + str(i)])
            act = None
            if i != self.L:
                name = self.acts[i - 1]
                if name == "leaky_relu":
                    h, act = layers.leaky_relu_forward(h, self.slope)
                else:
                    h, act = FORWARD[name](h)
            self.tape.append({"linear": lin, "act": act})
        return h

    def backward(self, dout):
        d = dout
        for i in range(self.L, 0, -1):
            entry = self.tape[i - 1]
            if i != self.L:
                d = BACKWARD[self.acts[i - 1]](d, entry["act"])
            d, dW, db = layers.linear_backward(d, entry["linear"])
            self.grads["W" + str(i)] = dW
            self.grads["b" + str(i)] = db
        return d


def train(net, x, y, epochs, lr, batch_size, rng):
    n = x.shape[0]
    history = []
    for _epoch in range(epochs):
        order = rng.permutation(n)
        total, count = 0.0, 0
        start = 0
        while start < n:
            idx = order[start : start + batch_size]
            scores = net.forward(x[idx])
            loss, dscores = layers.softmax_cross_entropy(scores, y[idx])
            net.backward(dscores)
            for name in list(net.params):
                net.params[name] -= lr * net.grads[name]
            total += loss
            count += 1
            start += batch_size
        history.append(total / count)
    return history


def numerical_gradient(f, x, h=1e-5):
    # perturbs the caller's own array and restores every entry before returning
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + h
        f_plus = f(x)
        x[idx] = old - h
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
        it.iternext()
    return grad
