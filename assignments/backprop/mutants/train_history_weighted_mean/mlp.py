"""A multi-layer perceptron built from layers.py, its SGD training loop and a gradient checker.

MUTANT train_history_weighted_mean: epoch loss weighted by batch size (loss per example), not
the mean of the batch losses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


class MLP:
    """Fully connected network: (linear -> activation) * (L - 1) -> linear, returning scores."""

    def __init__(
        self,
        dims: Sequence[int],
        activation: str | Sequence[str] = "relu",
        negative_slope: float = 0.01,
        rng: np.random.Generator | None = None,
    ) -> None:
        """dims = [D_in, H_1, ..., D_out]; one activation for all hidden layers, or one each."""
        if len(dims) < 2:
            raise ValueError("dims needs at least an input and an output size")
        n_hidden = len(dims) - 2
        names = [activation] * n_hidden if isinstance(activation, str) else list(activation)
        if len(names) != n_hidden or any(name not in ACTIVATIONS for name in names):
            raise ValueError(f"need {n_hidden} activations from {ACTIVATIONS}, got {activation!r}")
        self.activations = names
        self.negative_slope = negative_slope
        self.num_layers = len(dims) - 1
        rng = np.random.default_rng() if rng is None else rng
        self.params: dict[str, np.ndarray] = {}
        for i in range(1, self.num_layers + 1):
            d_in, d_out = dims[i - 1], dims[i]
            # He initialisation, drawn layer by layer in this exact order.
            self.params[f"W{i}"] = rng.standard_normal((d_out, d_in)) * np.sqrt(2.0 / d_in)
            self.params[f"b{i}"] = np.zeros(d_out)
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        self._caches: list[tuple] = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Scores (N, D_out) for x (N, D_in); remembers what the next backward() needs."""
        caches = []
        h = x
        for i in range(1, self.num_layers + 1):
            h, linear_cache = linear_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            act_cache = None
            if i < self.num_layers:
                h, act_cache = self._activation_forward(self.activations[i - 1], h)
            caches.append((linear_cache, act_cache))
        self._caches = caches  # replaced, never appended: backward uses the latest forward
        return h

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Given dL/dscores of the last forward, overwrite self.grads and return dL/dx."""
        if len(self._caches) != self.num_layers:
            raise RuntimeError("call forward() before backward()")
        d = dout
        for i in range(self.num_layers, 0, -1):
            linear_cache, act_cache = self._caches[i - 1]
            if act_cache is not None:
                d = self._activation_backward(self.activations[i - 1], d, act_cache)
            d, dW, db = linear_backward(d, linear_cache)
            self.grads[f"W{i}"] = dW
            self.grads[f"b{i}"] = db
        return d

    def _activation_forward(self, name: str, x: np.ndarray) -> tuple[np.ndarray, object]:
        """Run the named activation forward."""
        if name == "leaky_relu":
            return leaky_relu_forward(x, self.negative_slope)
        forward = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward}[name]
        return forward(x)

    def _activation_backward(self, name: str, dout: np.ndarray, cache: object) -> np.ndarray:
        """Run the named activation backward."""
        backward = {
            "sigmoid": sigmoid_backward,
            "tanh": tanh_backward,
            "relu": relu_backward,
            "leaky_relu": leaky_relu_backward,
        }[name]
        return backward(dout, cache)


def train(
    net: MLP,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    lr: float,
    batch_size: int,
    rng: np.random.Generator,
) -> list[float]:
    """Mini-batch SGD on softmax cross-entropy; returns the mean batch loss of each epoch."""
    n = x.shape[0]
    history = []
    for _ in range(epochs):
        order = rng.permutation(n)  # a fresh shuffle every epoch
        losses = []
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            scores = net.forward(x[batch])
            loss, dscores = softmax_cross_entropy(scores, y[batch])
            net.backward(dscores)
            for name in net.params:
                net.params[name] -= lr * net.grads[name]
            losses.append(loss * len(batch))
        history.append(float(np.sum(losses) / n))
    return history


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Central differences (f(x + h e_i) - f(x - h e_i)) / (2 h) for every entry; x is unchanged."""
    xp = np.array(x, dtype=np.float64)  # work on a float64 copy so the caller's x stays intact
    grad = np.zeros_like(xp)
    for idx in np.ndindex(xp.shape):
        old = xp[idx]
        xp[idx] = old + h
        f_plus = f(xp)
        xp[idx] = old - h
        f_minus = f(xp)
        xp[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad
