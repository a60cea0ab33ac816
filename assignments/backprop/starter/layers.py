"""Layers and losses of a NumPy MLP.

Every forward function returns (out, cache); the matching backward function takes
(dout, cache), where dout is the gradient of the loss with respect to `out`, and returns
the gradient(s) with respect to the forward inputs. The cache is yours: put in it whatever
backward needs. Losses return (loss, dinput), with loss a Python float, and average exactly
as PyTorch's default reduction="mean" does.

Rules for every function (see README.md, "Conventions"):
- do not change the arrays you are given (no in-place edits of inputs, dout or caches);
- array outputs have the dtype of the inputs (float32 in, float32 out);
- NumPy only: no torch, scipy, sklearn, ... (the grader refuses the submission).
"""

from __future__ import annotations

import numpy as np


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Affine layer: out = x @ W.T + b.

    x: (N, D_in) batch of N rows. W: (D_out, D_in), the same layout as torch.nn.Linear.
    b: (D_out,). Returns out (N, D_out) and a cache for linear_backward.
    """
    # TODO: compute out and choose what to cache.
    raise NotImplementedError("linear_forward")


def linear_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of an affine layer.

    dout: (N, D_out). Returns (dx, dW, db) with the shapes of x (N, D_in), W (D_out, D_in)
    and b (D_out,). db adds up the contribution of every row of the batch.
    """
    # TODO
    raise NotImplementedError("linear_backward")


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, object]:
    """Elementwise logistic sigmoid 1 / (1 + exp(-x)), for any input shape.

    Must be stable: x = -1000 or +1000 gives 0 or 1, with no NaN and no overflow warning.
    """
    # TODO
    raise NotImplementedError("sigmoid_forward")


def sigmoid_backward(dout: np.ndarray, cache: object) -> np.ndarray:
    """dx for the sigmoid, same shape as dout. Hint: sigmoid'(x) = s (1 - s) with s = sigmoid(x)."""
    # TODO
    raise NotImplementedError("sigmoid_backward")


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, object]:
    """Elementwise hyperbolic tangent, for any input shape."""
    # TODO
    raise NotImplementedError("tanh_forward")


def tanh_backward(dout: np.ndarray, cache: object) -> np.ndarray:
    """dx for tanh, same shape as dout."""
    # TODO
    raise NotImplementedError("tanh_backward")


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, object]:
    """Elementwise max(x, 0), for any input shape."""
    # TODO
    raise NotImplementedError("relu_forward")


def relu_backward(dout: np.ndarray, cache: object) -> np.ndarray:
    """dx for ReLU: dout where x > 0, else 0. At exactly x = 0 the gradient is 0."""
    # TODO
    raise NotImplementedError("relu_backward")


def leaky_relu_forward(x: np.ndarray, negative_slope: float = 0.01) -> tuple[np.ndarray, object]:
    """Elementwise x if x > 0 else negative_slope * x, for any input shape."""
    # TODO: leaky_relu_backward only gets (dout, cache): what must the cache hold?
    raise NotImplementedError("leaky_relu_forward")


def leaky_relu_backward(dout: np.ndarray, cache: object) -> np.ndarray:
    """dx for leaky ReLU: dout where x > 0, else negative_slope * dout (also at exactly 0)."""
    # TODO
    raise NotImplementedError("leaky_relu_backward")


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer class labels.

    logits: (N, C) scores. y: (N,) integers in [0, C). Returns (loss, dlogits) where
    loss = mean over the N rows of -log softmax(logits)[i, y[i]] and
    dlogits = (softmax(logits) - onehot(y)) / N, shape (N, C).
    Must be stable for logits as large as +-1000 (see README.md, "Numerical stability").
    """
    # TODO
    raise NotImplementedError("softmax_cross_entropy")


def binary_cross_entropy(p: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy of probabilities p against targets y (same shape, any shape).

    loss = -mean(y log p + (1 - y) log(1 - p)), each log clamped to be >= -100 (as in
    PyTorch), so p = 0 or p = 1 gives a finite loss. Targets may be soft (any value in [0, 1]).
    dp = (p - y) / max(p (1 - p), 1e-12) / n, where n = p.size; it must be finite everywhere.
    """
    # TODO
    raise NotImplementedError("binary_cross_entropy")


def bce_with_logits(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """binary_cross_entropy(sigmoid(z), y) computed directly from the logits z, stably.

    loss = mean(log(1 + exp(z)) - z y) (rewrite it so exp never overflows);
    dz = (sigmoid(z) - y) / n, where n = z.size. Must work for z as large as +-1000.
    """
    # TODO
    raise NotImplementedError("bce_with_logits")


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over ALL elements (same shape, any shape).

    loss = mean((pred - target) ** 2); dpred = 2 (pred - target) / n, where n = pred.size.
    """
    # TODO
    raise NotImplementedError("mse_loss")
