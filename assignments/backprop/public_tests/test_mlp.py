"""Public tests for mlp.py: the MLP class, train() and numerical_gradient().

Run from the assignment folder:  python -m pytest public_tests -q
"""

from __future__ import annotations

import layers
import mlp
import numpy as np
import pytest
from numcheck import numeric_gradient, rel_error

GRAD_TOL = 1e-6


def random_params(net: mlp.MLP, seed: int) -> None:
    """Give every parameter (biases too) random values, so no gradient is trivially zero."""
    g = np.random.default_rng(seed)
    for name, value in net.params.items():
        net.params[name] = 0.7 * g.standard_normal(value.shape)


def check_all_gradients(net: mlp.MLP, x: np.ndarray, dout: np.ndarray) -> None:
    """Every grads[name] and dx match central differences of sum(forward(x) * dout)."""
    net.forward(x)
    dx = net.backward(dout)
    analytic = {name: g.copy() for name, g in net.grads.items()}
    for name, value in net.params.items():

        def f(v, name=name):
            net.params[name] = v
            return float(np.sum(net.forward(x) * dout))

        numeric = numeric_gradient(f, value.copy())
        net.params[name] = value
        assert rel_error(analytic[name], numeric) < GRAD_TOL, name
    numeric_dx = numeric_gradient(lambda z: float(np.sum(net.forward(z) * dout)), x.copy())
    assert rel_error(dx, numeric_dx) < GRAD_TOL


def test_init_follows_the_pinned_recipe():
    """Keys W1, b1, W2, b2; W (D_out, D_in) drawn with He scaling in layer order; b zero."""
    net = mlp.MLP([4, 6, 3], "relu", rng=np.random.default_rng(7))
    assert sorted(net.params) == ["W1", "W2", "b1", "b2"]
    g = np.random.default_rng(7)
    W1 = g.standard_normal((6, 4)) * np.sqrt(2.0 / 4)
    W2 = g.standard_normal((3, 6)) * np.sqrt(2.0 / 6)
    np.testing.assert_allclose(net.params["W1"], W1)
    np.testing.assert_allclose(net.params["W2"], W2)
    np.testing.assert_array_equal(net.params["b1"], np.zeros(6))
    np.testing.assert_array_equal(net.params["b2"], np.zeros(3))
    assert {k: v.shape for k, v in net.grads.items()} == {k: v.shape for k, v in net.params.items()}
    unseeded = mlp.MLP([4, 6, 3], "relu")  # rng=None: np.random.default_rng()
    assert unseeded.params["W1"].shape == (6, 4) and not unseeded.params["b2"].any()


def test_forward_reads_params_on_every_call():
    """Replacing entries of net.params changes the next forward (the grader relies on this)."""
    net = mlp.MLP([2, 3, 2], "tanh", rng=np.random.default_rng(0))
    net.params["W1"] = np.zeros((3, 2))
    net.params["W2"] = np.zeros((2, 3))
    net.params["b2"] = np.array([1.0, -1.0])
    out = net.forward(np.ones((4, 2)))
    np.testing.assert_allclose(out, np.tile([1.0, -1.0], (4, 1)))


def test_two_layer_net_gradients():
    """A relu network: every gradient matches central differences."""
    net = mlp.MLP([3, 5, 2], "relu", rng=np.random.default_rng(1))
    random_params(net, 11)
    g = np.random.default_rng(12)
    check_all_gradients(net, g.standard_normal((4, 3)), g.standard_normal((4, 2)))


def test_deeper_net_with_mixed_activations():
    """Three hidden layers, one activation each, and a custom leaky slope."""
    net = mlp.MLP(
        [3, 4, 5, 4, 2],
        ["sigmoid", "leaky_relu", "tanh"],
        negative_slope=0.2,
        rng=np.random.default_rng(2),
    )
    random_params(net, 21)
    g = np.random.default_rng(22)
    check_all_gradients(net, g.standard_normal((3, 3)), g.standard_normal((3, 2)))


def test_second_backward_overwrites_gradients():
    """forward/backward twice: the grads are those of the second batch alone."""
    g = np.random.default_rng(3)
    x1, x2 = g.standard_normal((5, 3)), g.standard_normal((2, 3))
    d1, d2 = g.standard_normal((5, 2)), g.standard_normal((2, 2))
    net = mlp.MLP([3, 4, 2], "relu", rng=np.random.default_rng(4))
    fresh = mlp.MLP([3, 4, 2], "relu", rng=np.random.default_rng(4))
    net.forward(x1)
    net.backward(d1)
    net.forward(x2)
    dx = net.backward(d2)
    fresh.forward(x2)
    np.testing.assert_allclose(dx, fresh.backward(d2))
    for name in fresh.grads:
        np.testing.assert_allclose(net.grads[name], fresh.grads[name], err_msg=name)


def test_numerical_gradient_of_a_known_function():
    """f(x) = sum(x**3) has gradient 3 x**2; x comes back unchanged; any shape works."""
    x = np.random.default_rng(5).standard_normal((2, 3, 2))
    before = x.copy()
    grad = mlp.numerical_gradient(lambda z: float(np.sum(z**3)), x)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, 3 * before**2, rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_is_central():
    """f(x) = x**2 at x = 1 with h = 0.1: central differences give exactly 2, one-sided 2.1."""
    grad = mlp.numerical_gradient(lambda z: float(np.sum(z**2)), np.array([1.0]), h=0.1)
    np.testing.assert_allclose(grad, [2.0], rtol=1e-12)


def blobs(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated Gaussian clusters in 2-D."""
    g = np.random.default_rng(seed)
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    x = np.concatenate([c + 0.6 * g.standard_normal((n_per_class, 2)) for c in centres])
    y = np.repeat(np.arange(3), n_per_class)
    return x, y


def test_train_learns_three_blobs():
    """train() returns one loss per epoch, the loss falls and the net separates the clusters."""
    x, y = blobs(60, seed=8)
    net = mlp.MLP([2, 16, 3], "relu", rng=np.random.default_rng(9))
    history = mlp.train(net, x, y, epochs=15, lr=0.1, batch_size=16, rng=np.random.default_rng(10))
    assert len(history) == 15
    assert history[-1] < 0.5 * history[0]
    accuracy = np.mean(net.forward(x).argmax(axis=1) == y)
    assert accuracy >= 0.95


def test_train_uses_the_given_rng():
    """Same seeds, same result: training is reproducible."""
    x, y = blobs(20, seed=11)
    runs = []
    for _ in range(2):
        net = mlp.MLP([2, 8, 3], "tanh", rng=np.random.default_rng(12))
        runs.append(
            mlp.train(net, x, y, epochs=3, lr=0.05, batch_size=7, rng=np.random.default_rng(13))
        )
    assert runs[0] == pytest.approx(runs[1])


def test_train_follows_the_handout_loop():
    """A fresh rng.permutation every epoch, batches in that order (the last one smaller), an
    SGD step per batch, and per epoch the plain mean of the batch losses."""
    x, y = blobs(7, seed=14)  # 21 rows: batches of 8, 8 and 5
    net = mlp.MLP([2, 5, 3], "tanh", rng=np.random.default_rng(15))
    twin = mlp.MLP([2, 5, 3], "tanh", rng=np.random.default_rng(15))
    history = mlp.train(net, x, y, epochs=3, lr=0.2, batch_size=8, rng=np.random.default_rng(16))
    rng, expected = np.random.default_rng(16), []
    for _ in range(3):
        order = rng.permutation(len(x))
        losses = []
        for start in range(0, len(x), 8):
            batch = order[start : start + 8]
            loss, dscores = layers.softmax_cross_entropy(twin.forward(x[batch]), y[batch])
            twin.backward(dscores)
            for name in twin.params:
                twin.params[name] -= 0.2 * twin.grads[name]
            losses.append(loss)
        expected.append(np.mean(losses))
    np.testing.assert_allclose(history, expected, rtol=1e-10)
    for name in twin.params:
        np.testing.assert_allclose(net.params[name], twin.params[name], rtol=1e-10, err_msg=name)
