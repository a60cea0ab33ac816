"""Public tests for layers.py: hand-computed values and numerical gradient checks.

Run from the assignment folder:  python -m pytest public_tests -q
The hidden tests use other shapes and inputs, and compare with a reference implementation.
"""

from __future__ import annotations

import math
import warnings

import layers
import numpy as np
import pytest
from numcheck import numeric_gradient, rel_error, upstream_check

GRAD_TOL = 1e-6  # relative error of an analytic gradient against central differences


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ------------------------------------------------------------------ linear


def test_linear_forward_hand_computed():
    """out = x @ W.T + b with W laid out (D_out, D_in) like torch.nn.Linear."""
    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]])
    b = np.array([0.0, 1.0, 2.0, 3.0])
    out, _ = layers.linear_forward(x, W, b)
    expected = np.array([[1.0, 3.0, 5.0, 3.0], [3.0, 5.0, 9.0, 5.0], [5.0, 7.0, 13.0, 7.0]])
    np.testing.assert_allclose(out, expected)


def test_linear_backward_shapes_and_values():
    """dx, dW, db have the shapes of x, W, b and match central differences."""
    g = rng(1)
    x, W, b = g.standard_normal((4, 3)), g.standard_normal((2, 3)), g.standard_normal(2)
    dout = g.standard_normal((4, 2))
    _, cache = layers.linear_forward(x, W, b)
    dx, dW, db = layers.linear_backward(dout, cache)
    assert (dx.shape, dW.shape, db.shape) == (x.shape, W.shape, b.shape)

    def loss_of(which: str):
        def f(value):
            args = {"x": x, "W": W, "b": b, which: value}
            return float(np.sum(layers.linear_forward(args["x"], args["W"], args["b"])[0] * dout))

        return f

    assert rel_error(dx, numeric_gradient(loss_of("x"), x.copy())) < GRAD_TOL
    assert rel_error(dW, numeric_gradient(loss_of("W"), W.copy())) < GRAD_TOL
    assert rel_error(db, numeric_gradient(loss_of("b"), b.copy())) < GRAD_TOL


def test_linear_bias_gradient_sums_over_the_batch():
    """With dout all ones, db counts the rows of the batch."""
    x, W, b = np.ones((5, 2)), np.ones((3, 2)), np.zeros(3)
    _, cache = layers.linear_forward(x, W, b)
    _, _, db = layers.linear_backward(np.ones((5, 3)), cache)
    np.testing.assert_allclose(db, [5.0, 5.0, 5.0])


# ------------------------------------------------------------------ activations


def test_activation_forward_hand_computed():
    """Known values of every activation."""
    x = np.array([-2.0, 0.0, math.log(3.0)])
    np.testing.assert_allclose(layers.sigmoid_forward(x)[0], [1 / (1 + math.e**2), 0.5, 0.75])
    np.testing.assert_allclose(layers.tanh_forward(x)[0], np.tanh(x))
    np.testing.assert_allclose(layers.relu_forward(x)[0], [0.0, 0.0, math.log(3.0)])
    leaky = layers.leaky_relu_forward(x, 0.1)[0]
    np.testing.assert_allclose(leaky, [-0.2, 0.0, math.log(3.0)])
    np.testing.assert_allclose(layers.leaky_relu_forward(x)[0][0], -0.02)  # default slope 0.01


ACTIVATIONS = {
    "sigmoid": (lambda x: layers.sigmoid_forward(x), layers.sigmoid_backward),
    "tanh": (lambda x: layers.tanh_forward(x), layers.tanh_backward),
    "relu": (lambda x: layers.relu_forward(x), layers.relu_backward),
    "leaky_relu": (lambda x: layers.leaky_relu_forward(x, 0.15), layers.leaky_relu_backward),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward_matches_numeric(name):
    """Each backward matches central differences (inputs kept away from the kink at 0)."""
    forward, backward = ACTIVATIONS[name]
    g = rng(2)
    x = g.standard_normal((3, 5))
    x = np.where(np.abs(x) < 0.1, 0.5, x)
    dout = g.standard_normal((3, 5))
    _, cache = forward(x.copy())
    dx = backward(dout, cache)
    assert dx.shape == x.shape
    assert upstream_check(lambda z: forward(z)[0], x, dout, dx) < GRAD_TOL


def test_relu_and_leaky_relu_gradient_at_exactly_zero():
    """ReLU'(0) = 0 and LeakyReLU'(0) = negative_slope, as in PyTorch."""
    x = np.array([0.0, 0.0, 1.0, -1.0])
    dout = np.array([3.0, -2.0, 1.0, 1.0])
    _, cache = layers.relu_forward(x)
    np.testing.assert_allclose(layers.relu_backward(dout, cache), [0.0, 0.0, 1.0, 0.0])
    _, cache = layers.leaky_relu_forward(x, 0.25)
    np.testing.assert_allclose(layers.leaky_relu_backward(dout, cache), [0.75, -0.5, 1.0, 0.25])


def test_sigmoid_is_stable_at_extremes():
    """sigmoid(-1000) = 0 and sigmoid(1000) = 1 without NaN and without overflow warnings."""
    x = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        with np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
            out, cache = layers.sigmoid_forward(x)
            dx = layers.sigmoid_backward(np.ones_like(x), cache)
    np.testing.assert_allclose(out, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-40)
    np.testing.assert_allclose(dx, [0.0, 0.0, 0.25, 0.0, 0.0], atol=1e-40)


# ------------------------------------------------------------------ losses


def test_softmax_cross_entropy_uniform_logits():
    """Equal logits: loss = log C and dlogits = (1/C - onehot) / N."""
    logits = np.zeros((2, 4))
    y = np.array([3, 0])
    loss, dlogits = layers.softmax_cross_entropy(logits, y)
    assert loss == pytest.approx(math.log(4.0))
    expected = np.array([[0.25, 0.25, 0.25, -0.75], [-0.75, 0.25, 0.25, 0.25]]) / 2
    np.testing.assert_allclose(dlogits, expected)


def test_softmax_cross_entropy_large_logits():
    """Logits of +-1000 give the exact answer (PyTorch: loss 1000, grad [1, -1, 0])."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dlogits = layers.softmax_cross_entropy(np.array([[1000.0, 0.0, -1000.0]]), [1])
    assert loss == pytest.approx(1000.0)
    np.testing.assert_allclose(dlogits, [[1.0, -1.0, 0.0]], atol=1e-12)


def test_softmax_cross_entropy_gradient_matches_numeric():
    """dlogits matches central differences of the loss."""
    g = rng(3)
    logits, y = g.standard_normal((5, 3)), g.integers(0, 3, size=5)
    _, dlogits = layers.softmax_cross_entropy(logits, y)
    expected = numeric_gradient(lambda z: layers.softmax_cross_entropy(z, y)[0], logits.copy())
    assert rel_error(dlogits, expected) < GRAD_TOL


def test_binary_cross_entropy_hand_computed():
    """-mean(y log p + (1 - y) log(1 - p)) on two elements."""
    loss, dp = layers.binary_cross_entropy(np.array([0.5, 0.8]), np.array([1.0, 0.0]))
    assert loss == pytest.approx(-(math.log(0.5) + math.log(0.2)) / 2)
    np.testing.assert_allclose(dp, [-1.0, 2.5])  # (p - y) / (p (1 - p)) / 2


def test_binary_cross_entropy_gradient_matches_numeric():
    """dp matches central differences, with soft targets and a 2-D input."""
    g = rng(4)
    p, y = g.uniform(0.1, 0.9, size=(3, 2)), g.uniform(0.0, 1.0, size=(3, 2))
    _, dp = layers.binary_cross_entropy(p, y)
    expected = numeric_gradient(lambda q: layers.binary_cross_entropy(q, y)[0], p.copy())
    assert rel_error(dp, expected) < GRAD_TOL


def test_binary_cross_entropy_clamps_logs_at_minus_100():
    """p = 0 or 1: each log is clamped at -100, so a confident mistake costs exactly 100."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dp = layers.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
        right, _ = layers.binary_cross_entropy(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    assert loss == pytest.approx(100.0)
    assert right == pytest.approx(0.0)
    assert np.all(np.isfinite(dp))


def test_bce_with_logits_agrees_with_bce_of_sigmoid():
    """For moderate z, bce_with_logits(z, y) equals BCE of 1 / (1 + exp(-z))."""
    z = np.array([[-2.0, 0.5], [1.5, 3.0]])
    y = np.array([[0.0, 1.0], [1.0, 0.3]])
    p = 1.0 / (1.0 + np.exp(-z))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    loss, dz = layers.bce_with_logits(z, y)
    assert loss == pytest.approx(expected)
    np.testing.assert_allclose(dz, (p - y) / 4)


def test_bce_with_logits_large_logits():
    """z = +-1000 on the wrong side costs 1000 each; no NaN, no warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dz = layers.bce_with_logits(np.array([1000.0, -1000.0]), np.array([0.0, 1.0]))
    assert loss == pytest.approx(1000.0)
    np.testing.assert_allclose(dz, [0.5, -0.5])


def test_mse_loss_hand_computed():
    """Mean over ALL elements: loss = SSE / (N * D) and dpred = 2 (pred - target) / (N * D)."""
    pred = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    target = np.ones((2, 3))
    loss, dpred = layers.mse_loss(pred, target)
    assert loss == pytest.approx(55.0 / 6.0)  # SSE = 0 + 1 + 4 + 9 + 16 + 25
    np.testing.assert_allclose(dpred, 2 * (pred - target) / 6)


# ------------------------------------------------------------------ contracts


def test_float32_in_float32_out():
    """Array outputs keep the input dtype."""
    g = rng(5)
    x = g.standard_normal((2, 3)).astype(np.float32)
    W, b = g.standard_normal((4, 3)).astype(np.float32), np.zeros(4, np.float32)
    out, cache = layers.linear_forward(x, W, b)
    grads = layers.linear_backward(np.ones((2, 4), np.float32), cache)
    arrays = [out, *grads]
    for forward, backward in ACTIVATIONS.values():
        out, cache = forward(x)
        arrays += [out, backward(np.ones_like(x), cache)]
    arrays.append(layers.softmax_cross_entropy(x, np.array([0, 2]))[1])
    arrays.append(layers.mse_loss(x, np.zeros_like(x))[1])
    assert [a.dtype for a in arrays] == [np.float32] * len(arrays)


def test_inputs_are_not_modified():
    """No function changes the arrays it is given (inputs, dout or what the cache points to)."""
    g = rng(6)
    x = g.standard_normal((3, 4))
    dout = g.standard_normal((3, 4))
    for forward, backward in ACTIVATIONS.values():
        x_given, dout_given = x.copy(), dout.copy()
        _, cache = forward(x_given)
        backward(dout_given, cache)
        np.testing.assert_array_equal(x_given, x)
        np.testing.assert_array_equal(dout_given, dout)
    logits, y = x.copy(), np.array([0, 1, 3])
    layers.softmax_cross_entropy(logits, y)
    np.testing.assert_array_equal(logits, x)
