"""Public tests for the LSTM and GRU cells (PyTorch's gate orders) and lstm_forward."""

import warnings

import numpy as np
import rnn_layers as L
from gradcheck import assert_gradients


def cell_inputs(rng, gates, N, D, H):
    return {
        "x": rng.standard_normal((N, D)),
        "h_prev": 0.5 * rng.standard_normal((N, H)),
        "W_ih": rng.standard_normal((gates * H, D)) / np.sqrt(D),
        "W_hh": rng.standard_normal((gates * H, H)) / np.sqrt(H),
        "b_ih": 0.5 * rng.standard_normal(gates * H),
        "b_hh": 0.5 * rng.standard_normal(gates * H),
    }


def test_sigmoid_is_stable():
    """sigmoid(+-1000) gives 1 and 0 without overflow warnings or NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = L.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    assert np.allclose(out, [0.0, 0.5, 1.0], atol=1e-12)


def test_gru_step_saturated_inputs():
    """Huge inputs saturate the GRU's gates without NaN or overflow warnings."""
    rng = np.random.default_rng(8)
    p = cell_inputs(rng, 3, N=2, D=3, H=2)
    p["x"] *= 1000.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h, _ = L.gru_step_forward(*p.values())
    assert np.all(np.isfinite(h)) and np.all(np.abs(h) <= 1.0)


def test_lstm_gate_order_by_hand():
    """Biases pick the gates: i ~ 1, f ~ 0, g = 0.5, o = 0.5, so c = 0.5, h = 0.5 tanh(0.5).

    The blocks of the 4H rows are i, f, g, o (PyTorch), not i, f, o, g.
    """
    b_ih = np.array([20.0, -20.0, np.arctanh(0.5), 0.0])
    zeros = np.zeros((4, 1))
    h, c, _ = L.lstm_step_forward(
        np.ones((1, 1)), np.ones((1, 1)), np.full((1, 1), 3.0), zeros, zeros, b_ih, np.zeros(4)
    )
    assert np.allclose(c, 0.5, atol=1e-6)
    assert np.allclose(h, 0.5 * np.tanh(0.5), atol=1e-6)


def test_lstm_step_saturated_inputs():
    """Huge inputs saturate the gates without NaN or overflow warnings."""
    rng = np.random.default_rng(4)
    p = cell_inputs(rng, 4, N=2, D=3, H=2)
    p["x"] *= 1000.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h, c, _ = L.lstm_step_forward(p["x"], p["h_prev"], np.ones((2, 2)), *list(p.values())[2:])
    assert np.all(np.isfinite(h)) and np.all(np.isfinite(c))
    assert np.all(np.abs(h) <= 1.0)


def test_lstm_step_backward_gradcheck():
    """All seven gradients of one LSTM step match finite differences of (h_next, c_next)."""
    rng = np.random.default_rng(5)
    p = cell_inputs(rng, 4, N=2, D=3, H=4)
    p = {"x": p["x"], "h_prev": p["h_prev"], "c_prev": rng.standard_normal((2, 4))} | {
        k: p[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")
    }
    dh, dc = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    _, _, cache = L.lstm_step_forward(*[v.copy() for v in p.values()])
    grads = L.lstm_step_backward(dh, dc, cache)
    assert [g.shape for g in grads] == [(2, 3), (2, 4), (2, 4), (16, 3), (16, 4), (16,), (16,)]

    def f():
        h, c, _ = L.lstm_step_forward(*p.values())
        return np.concatenate([h, c], axis=1)

    assert_gradients(dict(zip(p, grads, strict=True)), f, p, np.concatenate([dh, dc], axis=1))


def test_lstm_forward_is_a_loop_of_steps():
    """lstm_forward returns every h and the last c, starting from (h0, c0)."""
    rng = np.random.default_rng(6)
    p = cell_inputs(rng, 4, N=2, D=3, H=3)
    weights = [p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"]]
    x, c0 = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 3))
    h_all, c_last = L.lstm_forward(x, p["h_prev"], c0, *weights)
    assert h_all.shape == (2, 4, 3) and c_last.shape == (2, 3)
    h, c = p["h_prev"], c0
    for t in range(4):
        h, c, _ = L.lstm_step_forward(x[:, t], h, c, *weights)
        assert np.allclose(h_all[:, t], h, rtol=1e-12, atol=0)
    assert np.allclose(c_last, c, rtol=1e-12, atol=0)


def test_gru_by_hand():
    """r = 0.5, z = 0.75, n = tanh(0.5 * b_hn) = 0.5, so h' = 0.25 * 0.5 + 0.75 * 1 = 0.875.

    Catches Cho's form tanh(W_hn (r*h) + b_hn) (0.95) and swapped z / 1 - z (0.625).
    """
    zeros = np.zeros((3, 1))
    b_ih = np.array([0.0, np.log(3.0), 0.0])
    b_hh = np.array([0.0, 0.0, 2.0 * np.arctanh(0.5)])
    h, _ = L.gru_step_forward(np.ones((1, 1)), np.ones((1, 1)), zeros, zeros, b_ih, b_hh)
    assert h.shape == (1, 1)
    assert np.allclose(h, 0.875)


def test_gru_step_backward_gradcheck():
    """All six gradients of one GRU step match finite differences."""
    rng = np.random.default_rng(7)
    p = cell_inputs(rng, 3, N=3, D=2, H=4)
    dh = rng.standard_normal((3, 4))
    _, cache = L.gru_step_forward(*[v.copy() for v in p.values()])
    grads = L.gru_step_backward(dh, cache)
    assert [g.shape for g in grads] == [(3, 2), (3, 4), (12, 2), (12, 4), (12,), (12,)]

    def f():
        return L.gru_step_forward(*p.values())[0]

    assert_gradients(dict(zip(p, grads, strict=True)), f, p, dh)
