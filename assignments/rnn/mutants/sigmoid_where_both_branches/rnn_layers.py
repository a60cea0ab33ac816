# Mutant sigmoid_where_both_branches: stable-looking sigmoid with np.where, which evaluates both
# branches, so exp overflows anyway.
"""Recurrent layers in NumPy: vanilla RNN, LSTM and GRU cells, BPTT and gradient clipping.

Weight layout follows PyTorch (torch.nn.RNN / LSTM / GRU): W_ih is (G*H, D), W_hh is (G*H, H),
b_ih and b_hh are (G*H,), with G = 1 (RNN), 4 (LSTM, gates i, f, g, o) or 3 (GRU, gates r, z, n).
Batches are rows: x is (N, D), h is (N, H); sequences are batch-first (N, T, D).
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def sigmoid(x: Array) -> Array:
    """Logistic function that never overflows, even for |x| in the thousands."""
    return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))


# ----------------------------------------------------------------------------- vanilla RNN


def rnn_step_forward(
    x: Array, h_prev: Array, W_ih: Array, W_hh: Array, b_ih: Array, b_hh: Array
) -> tuple[Array, tuple]:
    """One tanh RNN step: h_next = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh)."""
    h_next = np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
    cache = (x, h_prev, h_next, W_ih, W_hh)
    return h_next, cache


def rnn_step_backward(dh_next: Array, cache: tuple) -> tuple[Array, ...]:
    """Gradients of one RNN step: (dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh)."""
    x, h_prev, h_next, W_ih, W_hh = cache
    da = dh_next * (1.0 - h_next**2)  # tanh'(a) = 1 - tanh(a)^2, from the output we kept
    dx = da @ W_ih
    dh_prev = da @ W_hh
    dW_ih = da.T @ x
    dW_hh = da.T @ h_prev
    db = da.sum(axis=0)
    return dx, dh_prev, dW_ih, dW_hh, db, db.copy()


def rnn_forward(
    x: Array, h0: Array, W_ih: Array, W_hh: Array, b_ih: Array, b_hh: Array
) -> tuple[Array, list]:
    """Run the RNN over x (N, T, D) from h0 (N, H); return (h_all (N, T, H), cache)."""
    N, T, _ = x.shape
    h_all = np.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0, W_hh))
    caches = []
    h = h0
    for t in range(T):
        h, step_cache = rnn_step_forward(x[:, t], h, W_ih, W_hh, b_ih, b_hh)
        h_all[:, t] = h
        caches.append(step_cache)
    return h_all, caches


def rnn_backward(dh_all: Array, cache: list) -> tuple[Array, ...]:
    """Backpropagation through time: (dx (N, T, D), dh0, dW_ih, dW_hh, db_ih, db_hh)."""
    N, T, H = dh_all.shape
    dx_steps: list = [None] * T
    sums: list = [0.0, 0.0, 0.0, 0.0]  # dW_ih, dW_hh, db_ih, db_hh, summed over time
    dh_prev = np.zeros((N, H))
    for t in reversed(range(T)):
        # h_t feeds both the loss at step t and step t+1: the two gradients add up.
        dx_steps[t], dh_prev, *step_grads = rnn_step_backward(dh_all[:, t] + dh_prev, cache[t])
        sums = [total + part for total, part in zip(sums, step_grads, strict=True)]
    return (np.stack(dx_steps, axis=1), dh_prev, *sums)


# ----------------------------------------------------------------------------------- LSTM


def lstm_step_forward(
    x: Array, h_prev: Array, c_prev: Array, W_ih: Array, W_hh: Array, b_ih: Array, b_hh: Array
) -> tuple[Array, Array, tuple]:
    """One LSTM step with PyTorch's gate order i, f, g, o; return (h_next, c_next, cache)."""
    H = h_prev.shape[1]
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H :])
    c_next = f * c_prev + i * g
    tanh_c = np.tanh(c_next)
    h_next = o * tanh_c
    cache = (x, h_prev, c_prev, i, f, g, o, tanh_c, W_ih, W_hh)
    return h_next, c_next, cache


def lstm_step_backward(dh_next: Array, dc_next: Array, cache: tuple) -> tuple[Array, ...]:
    """Gradients of one LSTM step: (dx, dh_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh)."""
    x, h_prev, c_prev, i, f, g, o, tanh_c, W_ih, W_hh = cache
    # c_next reaches the loss directly (dc_next) and through h_next = o * tanh(c_next).
    dc = dc_next + dh_next * o * (1.0 - tanh_c**2)
    da = np.concatenate(
        [
            dc * g * i * (1.0 - i),  # input gate
            dc * c_prev * f * (1.0 - f),  # forget gate
            dc * i * (1.0 - g**2),  # cell candidate
            dh_next * tanh_c * o * (1.0 - o),  # output gate
        ],
        axis=1,
    )
    dx = da @ W_ih
    dh_prev = da @ W_hh
    dc_prev = dc * f
    db = da.sum(axis=0)
    return dx, dh_prev, dc_prev, da.T @ x, da.T @ h_prev, db, db.copy()


def lstm_forward(
    x: Array, h0: Array, c0: Array, W_ih: Array, W_hh: Array, b_ih: Array, b_hh: Array
) -> tuple[Array, Array]:
    """Run the LSTM over x (N, T, D); return (h_all (N, T, H), c_last (N, H))."""
    N, T, _ = x.shape
    h_all = np.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0, W_hh))
    h, c = h0, c0
    for t in range(T):
        h, c, _ = lstm_step_forward(x[:, t], h, c, W_ih, W_hh, b_ih, b_hh)
        h_all[:, t] = h
    return h_all, c


# ------------------------------------------------------------------------------------ GRU


def gru_step_forward(
    x: Array, h_prev: Array, W_ih: Array, W_hh: Array, b_ih: Array, b_hh: Array
) -> tuple[Array, tuple]:
    """One GRU step in PyTorch's form (gates r, z, n); return (h_next, cache)."""
    H = h_prev.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h_prev @ W_hh.T + b_hh
    r = sigmoid(gi[:, :H] + gh[:, :H])
    z = sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
    # b_hn sits inside the reset product, which is why the two biases cannot be merged.
    n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
    h_next = (1.0 - z) * n + z * h_prev
    cache = (x, h_prev, r, z, n, gh[:, 2 * H :], W_ih, W_hh)
    return h_next, cache


def gru_step_backward(dh_next: Array, cache: tuple) -> tuple[Array, ...]:
    """Gradients of one GRU step: (dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh)."""
    x, h_prev, r, z, n, gh_n, W_ih, W_hh = cache
    dn = dh_next * (1.0 - z) * (1.0 - n**2)  # through tanh: gradient of n's pre-activation
    dz = dh_next * (h_prev - n) * z * (1.0 - z)
    dr = dn * gh_n * r * (1.0 - r)
    dgi = np.concatenate([dr, dz, dn], axis=1)
    dgh = np.concatenate([dr, dz, dn * r], axis=1)
    dx = dgi @ W_ih
    dh_prev = dh_next * z + dgh @ W_hh
    return dx, dh_prev, dgi.T @ x, dgh.T @ h_prev, dgi.sum(axis=0), dgh.sum(axis=0)


# ------------------------------------------------------------------------------- clipping


def clip_grad_norm(grads: dict[str, Array], max_norm: float) -> float:
    """Scale every gradient in the dict in place so their global L2 norm is at most max_norm.

    Same rule as torch.nn.utils.clip_grad_norm_: coef = max_norm / (total_norm + 1e-6),
    applied only when coef < 1. Returns the total norm measured before clipping.
    """
    total_norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
    coef = max_norm / (total_norm + 1e-6)
    if coef < 1.0:
        for g in grads.values():
            g *= coef
    return total_norm
