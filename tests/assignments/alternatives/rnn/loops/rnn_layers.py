"""A correct rnn_layers.py written with loops: batch rows, gates and time steps one at a time.

Correct alternative (staff fixture): it must score full marks. Differs from the reference in
how it computes, not what: sigmoid through logaddexp, the LSTM per batch row and per gate
(matrix-vector products, outer products summed row by row), the GRU per gate, BPTT into
preallocated arrays, and an exactly rounded sum (math.fsum) for the clipping norm. The RNN step
itself stays vectorised over the batch: train_regressor calls it 20000 times, and a per-row
loop there takes over a minute, past the training case's time limit.
"""

import math

import numpy as np


def sigmoid(x):
    # 1 / (1 + exp(-x)) = exp(-log(1 + exp(-x))); logaddexp never overflows.
    return np.exp(-np.logaddexp(0.0, -x))


def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    # The training loop calls this 20000 times: rows go through one product, not a loop.
    h_next = np.tanh((h_prev @ W_hh.T + b_hh) + (x @ W_ih.T + b_ih))
    return h_next, (x, h_prev, W_ih, W_hh, h_next)


def rnn_step_backward(dh_next, cache):
    x, h_prev, W_ih, W_hh, h_next = cache
    da = dh_next - dh_next * h_next * h_next
    db = np.zeros(W_hh.shape[0])
    for row in da:  # the bias gradient summed one batch row at a time
        db += row
    return da @ W_ih, da @ W_hh, np.dot(da.T, x), np.dot(da.T, h_prev), db, db.copy()


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    N, T, _ = x.shape
    h_all = np.zeros((N, T, h0.shape[1]))
    caches = []
    h = h0
    for t in range(T):
        h, cache = rnn_step_forward(x[:, t, :], h, W_ih, W_hh, b_ih, b_hh)
        h_all[:, t, :] = h
        caches.append(cache)
    return h_all, caches


def rnn_backward(dh_all, cache):
    N, T, H = dh_all.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dW_ih, dW_hh = np.zeros((H, D)), np.zeros((H, H))
    db_ih, db_hh = np.zeros(H), np.zeros(H)
    carry = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dx_t, carry, dWi, dWh, dbi, dbh = rnn_step_backward(dh_all[:, t, :] + carry, cache[t])
        dx[:, t, :] = dx_t
        dW_ih += dWi
        dW_hh += dWh
        db_ih += dbi
        db_hh += dbh
    return dx, carry, dW_ih, dW_hh, db_ih, db_hh


def _gates(W, H):
    """The G blocks of H rows of a packed weight matrix or bias."""
    return [W[k * H : (k + 1) * H] for k in range(W.shape[0] // H)]


def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    N, H = h_prev.shape
    Wi, Wh, bi, bh = _gates(W_ih, H), _gates(W_hh, H), _gates(b_ih, H), _gates(b_hh, H)
    i, f, g, o = (np.zeros((N, H)) for _ in range(4))
    for n in range(N):  # one batch row at a time, one gate at a time
        i[n] = sigmoid(Wi[0] @ x[n] + bi[0] + Wh[0] @ h_prev[n] + bh[0])
        f[n] = sigmoid(Wi[1] @ x[n] + bi[1] + Wh[1] @ h_prev[n] + bh[1])
        g[n] = np.tanh(Wi[2] @ x[n] + bi[2] + Wh[2] @ h_prev[n] + bh[2])
        o[n] = sigmoid(Wi[3] @ x[n] + bi[3] + Wh[3] @ h_prev[n] + bh[3])
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next, (x, h_prev, c_prev, c_next, i, f, g, o, W_ih, W_hh)


def lstm_step_backward(dh_next, dc_next, cache):
    x, h_prev, c_prev, c_next, i, f, g, o, W_ih, W_hh = cache
    tc = np.tanh(c_next)
    dc = dc_next + dh_next * o * (1.0 - tc * tc)
    d_pre = [dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f), dc * i * (1.0 - g * g)]
    d_pre.append(dh_next * tc * o * (1.0 - o))
    H = h_prev.shape[1]
    dx, dh_prev = np.zeros_like(x), np.zeros_like(h_prev)
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(4 * H)
    for k, d in enumerate(d_pre):
        rows = slice(k * H, (k + 1) * H)
        dx += d @ W_ih[rows]
        dh_prev += d @ W_hh[rows]
        for n in range(x.shape[0]):  # weight gradients: one outer product per batch row
            dW_ih[rows] += np.outer(d[n], x[n])
            dW_hh[rows] += np.outer(d[n], h_prev[n])
            db[rows] += d[n]
    return dx, dh_prev, dc * f, dW_ih, dW_hh, db, db.copy()


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    N, T, _ = x.shape
    h_all = np.zeros((N, T, h0.shape[1]))
    h, c = h0, c0
    for t in range(T):
        h, c, _ = lstm_step_forward(x[:, t, :], h, c, W_ih, W_hh, b_ih, b_hh)
        h_all[:, t, :] = h
    return h_all, c


def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    Wi, Wh, bi, bh = _gates(W_ih, H), _gates(W_hh, H), _gates(b_ih, H), _gates(b_hh, H)
    r = sigmoid(x @ Wi[0].T + bi[0] + h_prev @ Wh[0].T + bh[0])
    z = sigmoid(x @ Wi[1].T + bi[1] + h_prev @ Wh[1].T + bh[1])
    hn = h_prev @ Wh[2].T + bh[2]
    n = np.tanh(x @ Wi[2].T + bi[2] + r * hn)
    h_next = (1.0 - z) * n + z * h_prev
    return h_next, (x, h_prev, r, z, n, hn, W_ih, W_hh)


def gru_step_backward(dh_next, cache):
    x, h_prev, r, z, n, hn, W_ih, W_hh = cache
    H = h_prev.shape[1]
    dn_pre = dh_next * (1.0 - z) * (1.0 - n * n)
    dz_pre = dh_next * (h_prev - n) * z * (1.0 - z)
    dr_pre = dn_pre * hn * r * (1.0 - r)
    d_in = [dr_pre, dz_pre, dn_pre]  # gradients of the input-side pre-activations
    d_hid = [dr_pre, dz_pre, dn_pre * r]  # and of the hidden-side ones
    dx, dh_prev = np.zeros_like(x), dh_next * z
    dW_ih, dW_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    db_ih, db_hh = np.zeros(3 * H), np.zeros(3 * H)
    for k in range(3):
        rows = slice(k * H, (k + 1) * H)
        dx = dx + d_in[k] @ W_ih[rows]
        dh_prev = dh_prev + d_hid[k] @ W_hh[rows]
        dW_ih[rows] = d_in[k].T @ x
        dW_hh[rows] = d_hid[k].T @ h_prev
        db_ih[rows] = d_in[k].sum(axis=0)
        db_hh[rows] = d_hid[k].sum(axis=0)
    return dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh


def clip_grad_norm(grads, max_norm):
    total = math.sqrt(math.fsum(float(v) ** 2 for g in grads.values() for v in g.ravel()))
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for name in grads:
            grads[name] *= coef
    return total
