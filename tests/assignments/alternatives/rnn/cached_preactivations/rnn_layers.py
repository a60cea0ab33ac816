"""A correct rnn_layers.py that caches pre-activations and recomputes from them (staff fixture).

Correct alternative: it must score full marks. sigmoid clips its argument to [-500, 500] before
a plain 1 / (1 + exp(-x)) (no overflow, sigmoid(-1000) is about 7e-218 instead of 0), caches
are dicts holding pre-activations, backward passes recompute tanh and sigmoid from them, the
GRU's dz is expanded into two products, BPTT adds the carried gradient into a copy of the
upstream one, and clipping always multiplies by min(1, coef) (a multiplication by exactly 1
changes nothing).
"""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500.0, 500.0)))


def _dtanh(a):
    return 1.0 - np.tanh(a) ** 2


def _dsigmoid(a):
    s = sigmoid(a)
    return s * (1.0 - s)


def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    return np.tanh(a), {"x": x, "h": h_prev, "a": a, "W_ih": W_ih, "W_hh": W_hh}


def rnn_step_backward(dh_next, cache):
    da = dh_next * _dtanh(cache["a"])
    db_ih = da.sum(axis=0)
    return (
        da @ cache["W_ih"],
        da @ cache["W_hh"],
        da.T @ cache["x"],
        da.T @ cache["h"],
        db_ih,
        np.sum(da, axis=0),
    )


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    N, T, _ = x.shape
    h_all = np.zeros((N, T, W_hh.shape[0]), dtype=np.float64)
    steps = []
    h = h0
    for t in range(T):
        h, c = rnn_step_forward(x[:, t], h, W_ih, W_hh, b_ih, b_hh)
        h_all[:, t] = h
        steps.append(c)
    return h_all, {"steps": steps}


def rnn_backward(dh_all, cache):
    steps = cache["steps"]
    dxs, totals, carry = [], None, np.zeros_like(dh_all[:, 0])
    for t in range(len(steps) - 1, -1, -1):
        dh = dh_all[:, t].copy()
        dh += carry
        dx_t, carry, *grads = rnn_step_backward(dh, steps[t])
        dxs.insert(0, dx_t)
        totals = grads if totals is None else [a + b for a, b in zip(totals, grads, strict=True)]
    return (np.stack(dxs, axis=1), carry, *totals)


def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    ai, af, ag, ao = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
    c_next = sigmoid(af) * c_prev + sigmoid(ai) * np.tanh(ag)
    h_next = sigmoid(ao) * np.tanh(c_next)
    cache = {"x": x, "h": h_prev, "c": c_prev, "a": a, "c_next": c_next}
    return h_next, c_next, cache | {"W_ih": W_ih, "W_hh": W_hh}


def lstm_step_backward(dh_next, dc_next, cache):
    H = cache["h"].shape[1]
    a = cache["a"]
    ai, af, ag, ao = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
    dc = dc_next + dh_next * sigmoid(ao) * _dtanh(cache["c_next"])
    da = np.zeros_like(a)
    da[:, :H] = dc * np.tanh(ag) * _dsigmoid(ai)
    da[:, H : 2 * H] = dc * cache["c"] * _dsigmoid(af)
    da[:, 2 * H : 3 * H] = dc * sigmoid(ai) * _dtanh(ag)
    da[:, 3 * H :] = dh_next * np.tanh(cache["c_next"]) * _dsigmoid(ao)
    db = da.sum(axis=0)
    return (
        da @ cache["W_ih"],
        da @ cache["W_hh"],
        dc * sigmoid(af),
        da.T @ cache["x"],
        da.T @ cache["h"],
        db,
        db.copy(),
    )


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h_all = np.zeros((x.shape[0], x.shape[1], h0.shape[1]))
    h, c = h0, c0
    for t in range(x.shape[1]):
        h, c, _ = lstm_step_forward(x[:, t], h, c, W_ih, W_hh, b_ih, b_hh)
        h_all[:, t] = h
    return h_all, c


def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h_prev @ W_hh.T + b_hh
    ar = gi[:, :H] + gh[:, :H]
    az = gi[:, H : 2 * H] + gh[:, H : 2 * H]
    an = gi[:, 2 * H :] + sigmoid(ar) * gh[:, 2 * H :]
    z = sigmoid(az)
    h_next = (1.0 - z) * np.tanh(an) + z * h_prev
    return h_next, {"x": x, "h": h_prev, "ar": ar, "az": az, "an": an, "gh": gh, "W": (W_ih, W_hh)}


def gru_step_backward(dh_next, cache):
    H = cache["h"].shape[1]
    h, gh_n = cache["h"], cache["gh"][:, 2 * H :]
    r, z, n = sigmoid(cache["ar"]), sigmoid(cache["az"]), np.tanh(cache["an"])
    W_ih, W_hh = cache["W"]
    dan = dh_next * (1.0 - z) * _dtanh(cache["an"])
    daz = dh_next * h * _dsigmoid(cache["az"]) - dh_next * n * _dsigmoid(cache["az"])
    dar = dan * gh_n * _dsigmoid(cache["ar"])
    dgi = np.concatenate([dar, daz, dan], axis=1)
    dgh = np.concatenate([dar, daz, dan * r], axis=1)
    dh_prev = dgh @ W_hh + z * dh_next
    return dgi @ W_ih, dh_prev, dgi.T @ cache["x"], dgh.T @ h, dgi.sum(0), dgh.sum(0)


def clip_grad_norm(grads, max_norm):
    total_norm = float(np.sqrt(sum(np.vdot(g, g) for g in grads.values())))
    coef = min(1.0, max_norm / (total_norm + 1e-6))
    for g in grads.values():
        g *= coef
    return total_norm
