"""Optional extra checks against PyTorch autograd (float64). Skipped when torch is not installed.

Only these tests use torch; your own code must not (see README.md, "What is not allowed").
"""

from __future__ import annotations

import layers
import mlp
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional


def t(a: np.ndarray, grad: bool = False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def test_layers_match_autograd():
    """Linear, activations and losses agree with torch's forward values and gradients."""
    g = np.random.default_rng(100)
    x, W, b = g.standard_normal((4, 5)), g.standard_normal((3, 5)), g.standard_normal(3)
    dout = g.standard_normal((4, 3))
    tx, tW, tb = t(x, True), t(W, True), t(b, True)
    F.linear(tx, tW, tb).backward(t(dout))
    out, cache = layers.linear_forward(x, W, b)
    dx, dW, db = layers.linear_backward(dout, cache)
    np.testing.assert_allclose(out, F.linear(t(x), t(W), t(b)).numpy(), rtol=1e-10)
    for mine, theirs in [(dx, tx), (dW, tW), (db, tb)]:
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)

    logits, y = 3 * g.standard_normal((6, 4)), g.integers(0, 4, size=6)
    tl = t(logits, True)
    loss_t = F.cross_entropy(tl, torch.tensor(y))
    loss_t.backward()
    loss, dlogits = layers.softmax_cross_entropy(logits, y)
    assert loss == pytest.approx(loss_t.item(), rel=1e-10)
    np.testing.assert_allclose(dlogits, tl.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_mlp_matches_autograd():
    """A 2-hidden-layer network: scores and every gradient agree with torch."""
    net = mlp.MLP([5, 6, 4, 3], ["tanh", "relu"], rng=np.random.default_rng(101))
    g = np.random.default_rng(102)
    x, dout = g.standard_normal((7, 5)), g.standard_normal((7, 3))
    scores = net.forward(x)
    dx = net.backward(dout)
    tp = {k: t(v, True) for k, v in net.params.items()}
    tx = t(x, True)
    h = torch.tanh(F.linear(tx, tp["W1"], tp["b1"]))
    h = torch.relu(F.linear(h, tp["W2"], tp["b2"]))
    ts = F.linear(h, tp["W3"], tp["b3"])
    ts.backward(t(dout))
    np.testing.assert_allclose(scores, ts.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, value in tp.items():
        np.testing.assert_allclose(net.grads[name], value.grad.numpy(), rtol=1e-9, atol=1e-12)
