"""A correct rnn_layers.py written vectorised: stacked weights, einsum over time, tanh sigmoid.

Correct alternative (staff fixture): it must score full marks. sigmoid is 0.5 (1 + tanh(x/2))
(no exp at all), a step multiplies [x, h] by the stacked [W_ih, W_hh], BPTT keeps every step's
da and sums the weight gradients over time and batch in one einsum, the LSTM applies one
sigmoid to all four blocks, the GRU writes h' = n + z (h - n), and the clipping norm comes from
np.linalg.norm of all gradients concatenated.
"""

import numpy as np


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    xh = np.concatenate([x, h_prev], axis=1)
    W = np.concatenate([W_ih, W_hh], axis=1)
    h_next = np.tanh(xh @ W.T + (b_ih + b_hh))
    return h_next, {"xh": xh, "W": W, "D": x.shape[1], "h": h_next}


def rnn_step_backward(dh_next, cache):
    da = dh_next * (1.0 - cache["h"] ** 2)
    dxh = da @ cache["W"]
    dW = da.T @ cache["xh"]
    D = cache["D"]
    db = np.sum(da, axis=0)
    return dxh[:, :D], dxh[:, D:], dW[:, :D], dW[:, D:], db, db.copy()


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    states = [h0]
    for t in range(x.shape[1]):
        states.append(np.tanh(x[:, t] @ W_ih.T + b_ih + states[-1] @ W_hh.T + b_hh))
    h_all = np.stack(states[1:], axis=1)
    return h_all, (x, np.stack(states[:-1], axis=1), h_all, W_ih, W_hh)


def rnn_backward(dh_all, cache):
    x, h_before, h_all, W_ih, W_hh = cache
    T = x.shape[1]
    da = np.empty_like(h_all)
    dh = np.zeros_like(h_all[:, 0])
    for t in reversed(range(T)):
        da[:, t] = (dh_all[:, t] + dh) * (1.0 - h_all[:, t] ** 2)
        dh = da[:, t] @ W_hh
    dx = np.einsum("nth,hd->ntd", da, W_ih)
    dW_ih = np.einsum("nth,ntd->hd", da, x)
    dW_hh = np.einsum("nth,ntk->hk", da, h_before)
    db = da.sum(axis=(0, 1))
    return dx, dh, dW_ih, dW_hh, db, db.copy()


def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    a = x @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh
    gates = sigmoid(a)
    gates[:, 2 * H : 3 * H] = np.tanh(a[:, 2 * H : 3 * H])
    i, f, g, o = np.split(gates, 4, axis=1)
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next, (x, h_prev, c_prev, gates, c_next, W_ih, W_hh)


def lstm_step_backward(dh_next, dc_next, cache):
    x, h_prev, c_prev, gates, c_next, W_ih, W_hh = cache
    i, f, g, o = np.split(gates, 4, axis=1)
    tc = np.tanh(c_next)
    dc = dc_next + dh_next * o * (1.0 - tc**2)
    dgates = np.hstack([dc * g, dc * c_prev, dc * i, dh_next * tc])
    local = np.hstack([i * (1 - i), f * (1 - f), 1 - g**2, o * (1 - o)])
    da = dgates * local
    db = da.sum(0)
    return da @ W_ih, da @ W_hh, dc * f, da.T @ x, da.T @ h_prev, db, db.copy()


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    hs, h, c = [], h0, c0
    for t in range(x.shape[1]):
        h, c, _ = lstm_step_forward(x[:, t], h, c, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return np.stack(hs, axis=1), c


def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    gi = x @ W_ih.T + b_ih
    gh = h_prev @ W_hh.T + b_hh
    i_r, i_z, i_n = np.split(gi, 3, axis=1)
    h_r, h_z, h_n = np.split(gh, 3, axis=1)
    r = sigmoid(i_r + h_r)
    z = sigmoid(i_z + h_z)
    n = np.tanh(i_n + r * h_n)
    h_next = n + z * (h_prev - n)
    return h_next, (x, h_prev, r, z, n, h_n, W_ih, W_hh)


def gru_step_backward(dh_next, cache):
    x, h_prev, r, z, n, h_n, W_ih, W_hh = cache
    dn = dh_next * (1.0 - z)
    dz = dh_next * (h_prev - n)
    dan = dn * (1.0 - n**2)
    daz = dz * z * (1.0 - z)
    dar = dan * h_n * r * (1.0 - r)
    dgi = np.hstack([dar, daz, dan])
    dgh = np.hstack([dar, daz, dan * r])
    return (
        dgi @ W_ih,
        dgh @ W_hh + dh_next * z,
        dgi.T @ x,
        dgh.T @ h_prev,
        dgi.sum(0),
        dgh.sum(0),
    )


def clip_grad_norm(grads, max_norm):
    total_norm = float(np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()])))
    coef = max_norm / (total_norm + 1e-6)
    if coef < 1.0:
        for g in grads.values():
            np.multiply(g, coef, out=g)
    return total_norm
