"""Public tests for the vanilla RNN: one step, a sequence, and backpropagation through time."""

import numpy as np
import rnn_layers as L
from gradcheck import assert_gradients, rel_error


def rnn_inputs(rng, N, D, H):
    return {
        "x": rng.standard_normal((N, D)),
        "h_prev": 0.5 * rng.standard_normal((N, H)),
        "W_ih": rng.standard_normal((H, D)) / np.sqrt(D),
        "W_hh": rng.standard_normal((H, H)) / np.sqrt(H),
        "b_ih": 0.5 * rng.standard_normal(H),
        "b_hh": 0.5 * rng.standard_normal(H),
    }


def test_rnn_step_forward_by_hand():
    """a = 1*0.5 + 0.25 + 0.5*(-1) + 0.25 = 0.5, so h_next = tanh(0.5)."""
    h_next, _ = L.rnn_step_forward(
        np.array([[1.0]]), np.array([[0.5]]), np.array([[0.5]]), np.array([[-1.0]]),
        np.array([0.25]), np.array([0.25]),
    )  # fmt: skip
    assert h_next.shape == (1, 1)
    assert np.allclose(h_next, np.tanh(0.5))


def test_rnn_step_backward_by_hand():
    """With dh_next = 1 every gradient is tanh'(0.5) = 1 - tanh(0.5)^2 times one input."""
    _, cache = L.rnn_step_forward(
        np.array([[1.0]]), np.array([[0.5]]), np.array([[0.5]]), np.array([[-1.0]]),
        np.array([0.25]), np.array([0.25]),
    )  # fmt: skip
    dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh = L.rnn_step_backward(np.array([[1.0]]), cache)
    da = 1.0 - np.tanh(0.5) ** 2
    assert np.allclose(dx, 0.5 * da) and np.allclose(dh_prev, -da)
    assert np.allclose(dW_ih, da) and np.allclose(dW_hh, 0.5 * da)  # dW_hh uses h_prev
    assert np.allclose(db_ih, da) and np.allclose(db_hh, da)


def test_rnn_step_backward_gradcheck():
    """All six gradients of one step match finite differences (non-square shapes)."""
    rng = np.random.default_rng(0)
    p = rnn_inputs(rng, N=3, D=4, H=5)
    dh_next = rng.standard_normal((3, 5))
    _, cache = L.rnn_step_forward(*[v.copy() for v in p.values()])
    grads = L.rnn_step_backward(dh_next, cache)
    assert [g.shape for g in grads] == [(3, 4), (3, 5), (5, 4), (5, 5), (5,), (5,)]

    def f():
        return L.rnn_step_forward(*p.values())[0]

    assert_gradients(dict(zip(p, grads, strict=True)), f, p, dh_next)


def test_rnn_forward_is_a_loop_of_steps():
    """h_all[:, t] is the state after step t, starting from h0 (h0 itself is not returned)."""
    rng = np.random.default_rng(1)
    p = rnn_inputs(rng, N=2, D=3, H=4)
    x = rng.standard_normal((2, 5, 3))
    weights = [p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"]]
    h_all, _ = L.rnn_forward(x, p["h_prev"], *weights)
    assert h_all.shape == (2, 5, 4)
    h = p["h_prev"]
    for t in range(5):
        h, _ = L.rnn_step_forward(x[:, t], h, *weights)
        assert rel_error(h_all[:, t], h) < 1e-12


def test_rnn_backward_gradcheck():
    """BPTT with a loss at every step: dx, dh0 and the summed weight gradients."""
    rng = np.random.default_rng(2)
    p = rnn_inputs(rng, N=2, D=3, H=4)
    seq = {"x": rng.standard_normal((2, 6, 3)), "h0": p["h_prev"]}
    seq |= {k: p[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")}
    dh_all = rng.standard_normal((2, 6, 4))
    _, cache = L.rnn_forward(*[v.copy() for v in seq.values()])
    grads = L.rnn_backward(dh_all, cache)

    def f():
        return L.rnn_forward(*seq.values())[0]

    assert_gradients(dict(zip(seq, grads, strict=True)), f, seq, dh_all)


def test_rnn_backward_loss_on_last_step_only():
    """Upstream gradient only at the last step must still reach x at step 0 and h0."""
    rng = np.random.default_rng(3)
    p = rnn_inputs(rng, N=1, D=2, H=3)
    seq = {"x": rng.standard_normal((1, 8, 2)), "h0": p["h_prev"]}
    seq |= {k: p[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")}
    dh_all = np.zeros((1, 8, 3))
    dh_all[:, -1] = rng.standard_normal((1, 3))
    _, cache = L.rnn_forward(*[v.copy() for v in seq.values()])
    grads = L.rnn_backward(dh_all, cache)
    assert np.any(grads[0][:, 0] != 0.0), "no gradient reached the first time step"

    def f():
        return L.rnn_forward(*seq.values())[0]

    assert_gradients(dict(zip(seq, grads, strict=True)), f, seq, dh_all)


def test_everything_is_float64_and_inputs_are_left_alone():
    """Every forward and backward result is a float64 array, and no argument is modified."""
    rng = np.random.default_rng(9)
    p = rnn_inputs(rng, N=2, D=3, H=4)
    weights = [p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"]]
    x, dh_all = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 4))
    given = [x, p["h_prev"], *weights, dh_all]
    kept = [a.copy() for a in given]
    h_all, cache = L.rnn_forward(*given[:-1])
    results = [h_all, *L.rnn_backward(dh_all, cache)]
    names = ["h_all", "dx", "dh0", "dW_ih", "dW_hh", "db_ih", "db_hh"]
    assert len(results) == len(names), "rnn_backward returns 6 arrays"
    for name, r in zip(names, results, strict=True):
        assert isinstance(r, np.ndarray) and r.dtype == np.float64, f"{name} is not float64"
    names = ["x", "h0", "W_ih", "W_hh", "b_ih", "b_hh", "dh_all"]
    for name, a, b in zip(names, given, kept, strict=True):
        assert np.array_equal(a, b), f"rnn_forward/rnn_backward modified {name}"
