"""Staff check of the rnn assignment: the reference matches PyTorch, the public tests separate it
from the starter.

The oracle is torch (float64, CPU) with the reference's weights copied in and autograd for
every backward pass, so a mistake in the reference solution cannot hide behind a mistake in the
hidden cases (which only compare students with the reference).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

PACKAGE = Path(__file__).resolve().parents[2] / "assignments" / "rnn"
SOLUTION = PACKAGE / "solution"
MODULES = ("rnn_layers", "sequence_model")
RTOL, ATOL = 1e-9, 1e-11  # float64 against float64: only operation order differs


@pytest.fixture(scope="module")
def ref():
    """The reference modules, imported from solution/ and removed from sys.modules afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny float64 problems: threads only add noise on a shared box
    sys.path.insert(0, str(SOLUTION))
    try:
        yield {name: importlib.import_module(name) for name in MODULES}
    finally:
        torch.set_num_threads(threads)
        sys.path.remove(str(SOLUTION))
        for name in MODULES:
            sys.modules.pop(name, None)


def t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    """A float64 torch copy of a NumPy array."""
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def close(a, b: torch.Tensor) -> bool:
    return np.allclose(a, b.detach().numpy(), rtol=RTOL, atol=ATOL)


def weights(rng: np.random.Generator, gates: int, D: int, H: int) -> list[np.ndarray]:
    return [
        rng.standard_normal((gates * H, D)) / np.sqrt(D),
        rng.standard_normal((gates * H, H)) / np.sqrt(H),
        0.5 * rng.standard_normal(gates * H),
        0.5 * rng.standard_normal(gates * H),
    ]


def load(module: torch.nn.Module, W_ih, W_hh, b_ih, b_hh, suffix: str = "") -> None:
    """Copy NumPy weights into a torch RNN/LSTM/GRU (cell or layer 0 of a layer)."""
    with torch.no_grad():
        for name, value in zip(
            ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), (W_ih, W_hh, b_ih, b_hh), strict=True
        ):
            getattr(module, name + suffix).copy_(t(value))


def param_grads(module: torch.nn.Module, suffix: str = "") -> list[torch.Tensor]:
    return [
        getattr(module, n + suffix).grad for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]


# ----------------------------------------------------------------------------------- cells


def test_rnn_step_matches_rnncell(ref):
    """rnn_step_forward/backward equal nn.RNNCell and its autograd gradients."""
    L, rng = ref["rnn_layers"], np.random.default_rng(1)
    N, D, H = 3, 5, 4
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    W = weights(rng, 1, D, H)
    dh_next = rng.standard_normal((N, H))
    h_next, cache = L.rnn_step_forward(x, h, *W)
    dx, dh, *dW = L.rnn_step_backward(dh_next, cache)

    cell = torch.nn.RNNCell(D, H, dtype=torch.float64)
    load(cell, *W)
    tx, th = t(x, True), t(h, True)
    out = cell(tx, th)
    (out * t(dh_next)).sum().backward()
    assert close(h_next, out)
    assert close(dx, tx.grad) and close(dh, th.grad)
    assert all(close(a, b) for a, b in zip(dW, param_grads(cell), strict=True))


def test_lstm_step_matches_lstmcell(ref):
    """lstm_step_forward/backward equal nn.LSTMCell (gates i, f, g, o), saturated row included."""
    L, rng = ref["rnn_layers"], np.random.default_rng(2)
    N, D, H = 4, 3, 5
    x, h, c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    x[0] *= 50.0
    W = weights(rng, 4, D, H)
    dh_next, dc_next = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    h_next, c_next, cache = L.lstm_step_forward(x, h, c, *W)
    dx, dh, dc, *dW = L.lstm_step_backward(dh_next, dc_next, cache)

    cell = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    load(cell, *W)
    tx, th, tc = t(x, True), t(h, True), t(c, True)
    h_out, c_out = cell(tx, (th, tc))
    ((h_out * t(dh_next)).sum() + (c_out * t(dc_next)).sum()).backward()
    assert close(h_next, h_out) and close(c_next, c_out)
    assert close(dx, tx.grad) and close(dh, th.grad) and close(dc, tc.grad)
    assert all(close(a, b) for a, b in zip(dW, param_grads(cell), strict=True))


def test_gru_step_matches_grucell(ref):
    """gru_step_forward/backward equal nn.GRUCell (r, z, n; b_hn inside the reset product)."""
    L, rng = ref["rnn_layers"], np.random.default_rng(3)
    N, D, H = 3, 6, 4
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    W = weights(rng, 3, D, H)
    dh_next = rng.standard_normal((N, H))
    h_next, cache = L.gru_step_forward(x, h, *W)
    dx, dh, *dW = L.gru_step_backward(dh_next, cache)

    cell = torch.nn.GRUCell(D, H, dtype=torch.float64)
    load(cell, *W)
    tx, th = t(x, True), t(h, True)
    out = cell(tx, th)
    (out * t(dh_next)).sum().backward()
    assert close(h_next, out)
    assert close(dx, tx.grad) and close(dh, th.grad)
    assert all(close(a, b) for a, b in zip(dW, param_grads(cell), strict=True))


# ------------------------------------------------------------------------------- sequences


@pytest.mark.parametrize(("N", "T", "last_only"), [(1, 1, False), (3, 7, False), (2, 50, True)])
def test_rnn_bptt_matches_nn_rnn(ref, N, T, last_only):
    """rnn_forward/backward equal nn.RNN(batch_first) and autograd, dh0 included."""
    L, rng = ref["rnn_layers"], np.random.default_rng(T)
    D, H = 3, 5
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    W = weights(rng, 1, D, H)
    dh_all = rng.standard_normal((N, T, H))
    if last_only:
        dh_all[:, :-1] = 0.0
    h_all, cache = L.rnn_forward(x, h0, *W)
    dx, dh0, *dW = L.rnn_backward(dh_all, cache)

    rnn = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    load(rnn, *W, suffix="_l0")
    tx, th0 = t(x, True), t(h0, True)
    out, _ = rnn(tx, th0[None])
    (out * t(dh_all)).sum().backward()
    assert close(h_all, out)
    assert close(dx, tx.grad) and close(dh0, th0.grad)
    assert all(close(a, b) for a, b in zip(dW, param_grads(rnn, "_l0"), strict=True))


def test_lstm_forward_matches_nn_lstm(ref):
    """lstm_forward returns nn.LSTM's output sequence and final cell state."""
    L, rng = ref["rnn_layers"], np.random.default_rng(4)
    N, T, D, H = 3, 6, 4, 3
    x, h0, c0 = (
        rng.standard_normal((N, T, D)),
        rng.standard_normal((N, H)),
        rng.standard_normal((N, H)),
    )
    W = weights(rng, 4, D, H)
    h_all, c_last = L.lstm_forward(x, h0, c0, *W)

    lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    load(lstm, *W, suffix="_l0")
    with torch.no_grad():
        out, (_, c_n) = lstm(t(x), (t(h0)[None], t(c0)[None]))
    assert close(h_all, out) and close(c_last, c_n[0])


# -------------------------------------------------------------------------------- clipping


def clip_pair(ref, scale: float, max_norm: float) -> tuple[dict, float, list, float]:
    rng = np.random.default_rng(int(1 / scale))
    shapes = [(6, 3), (6, 6), (6,), (1, 6)]
    grads = {str(i): scale * (i + 1) * rng.standard_normal(s) for i, s in enumerate(shapes)}
    params = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    for p, g in zip(params, grads.values(), strict=True):
        p.grad = t(g)
    total = ref["rnn_layers"].clip_grad_norm(grads, max_norm)
    torch_total = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    return grads, total, [p.grad for p in params], torch_total


@pytest.mark.parametrize(("scale", "max_norm"), [(1e-4, 3e-4), (1.0, 0.5), (0.1, 100.0)])
def test_clip_matches_torch(ref, scale, max_norm):
    """clip_grad_norm equals torch.nn.utils.clip_grad_norm_ above and below max_norm, in place."""
    grads, total, torch_grads, torch_total = clip_pair(ref, scale, max_norm)
    assert np.isclose(total, torch_total, rtol=RTOL)
    assert all(
        np.allclose(g, tg.numpy(), rtol=RTOL, atol=1e-15)
        for g, tg in zip(grads.values(), torch_grads, strict=True)
    )


def test_clip_345_example(ref):
    """A 3-4-5 gradient clipped to 3 becomes 0.59999988 * g, not 0.6 * g (the 1e-6 epsilon)."""
    grads = {"a": np.array([3.0]), "b": np.array([4.0])}
    assert ref["rnn_layers"].clip_grad_norm(grads, 3.0) == 5.0
    assert np.allclose(grads["a"], 3.0 * 3.0 / (5.0 + 1e-6), rtol=1e-12, atol=0)


# -------------------------------------------------------------------------- sequence model


def test_regressor_matches_torch(ref):
    """RNNRegressor's loss and gradients equal nn.RNN + nn.Linear on the last step + MSE."""
    model, rng = (
        ref["sequence_model"].RNNRegressor(2, 4, np.random.default_rng(5)),
        np.random.default_rng(6),
    )
    x, y = rng.standard_normal((5, 6, 2)), rng.standard_normal(5)
    loss, grads = model.loss_and_grads(x, y)

    rnn = torch.nn.RNN(2, 4, batch_first=True, dtype=torch.float64)
    head = torch.nn.Linear(4, 1, dtype=torch.float64)
    p = model.params
    load(rnn, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"], suffix="_l0")
    with torch.no_grad():
        head.weight.copy_(t(p["W_out"]))
        head.bias.copy_(t(p["b_out"]))
    out, _ = rnn(t(x))
    pred = head(out[:, -1])[:, 0]
    torch_loss = F.mse_loss(pred, t(y))
    torch_loss.backward()
    assert np.isclose(loss, torch_loss.item(), rtol=RTOL)
    assert close(model.predict(x), pred)
    expected = dict(zip(("W_ih", "W_hh", "b_ih", "b_hh"), param_grads(rnn, "_l0"), strict=True))
    expected |= {"W_out": head.weight.grad, "b_out": head.bias.grad}
    assert set(grads) == set(expected)
    assert all(close(grads[k], expected[k]) for k in expected)
