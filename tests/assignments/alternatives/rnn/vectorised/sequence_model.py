"""A correct sequence_model.py (staff fixture): the reference's recipe with the model written as
plain functions of the params dict, and Adam's moments kept in two arrays per parameter."""

import numpy as np
from rnn_layers import clip_grad_norm, rnn_backward, rnn_forward


class RNNRegressor:
    def __init__(self, input_dim, hidden_dim, rng):
        bound = hidden_dim**-0.5
        self.params = {
            "W_ih": rng.uniform(-bound, bound, (hidden_dim, input_dim)),
            "W_hh": rng.uniform(-bound, bound, (hidden_dim, hidden_dim)),
            "b_ih": rng.uniform(-bound, bound, hidden_dim),
            "b_hh": rng.uniform(-bound, bound, hidden_dim),
            "W_out": rng.uniform(-bound, bound, (1, hidden_dim)),
            "b_out": rng.uniform(-bound, bound, 1),
        }

    def forward(self, x):
        p = self.params
        h0 = np.zeros((x.shape[0], p["W_hh"].shape[0]))
        h_all, cache = rnn_forward(x, h0, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
        pred = (h_all[:, -1] @ p["W_out"].T + p["b_out"]).ravel()
        return pred, h_all, cache

    def predict(self, x):
        return self.forward(x)[0]

    def loss_and_grads(self, x, y):
        pred, h_all, cache = self.forward(x)
        dpred = 2 * (pred - y) / y.shape[0]
        dh_all = np.zeros_like(h_all)
        dh_all[:, -1] = dpred[:, None] @ self.params["W_out"]
        names = ("dx", "dh0", "W_ih", "W_hh", "b_ih", "b_hh")
        grads = dict(zip(names, rnn_backward(dh_all, cache), strict=True))
        del grads["dx"], grads["dh0"]
        grads["W_out"] = dpred[None, :] @ h_all[:, -1]
        grads["b_out"] = dpred.sum(keepdims=True)
        return np.mean((pred - y) ** 2), grads


def train_regressor(x, y, rng):
    model = RNNRegressor(x.shape[-1], 32, rng)
    m = {k: 0 * v for k, v in model.params.items()}
    v = {k: 0 * w for k, w in model.params.items()}
    steps = 2000
    for t in range(1, steps + 1):
        lr = 1e-2 if t <= 3 * steps // 4 else 1e-3
        idx = rng.integers(0, x.shape[0], size=64)
        _, grads = model.loss_and_grads(x[idx], y[idx])
        clip_grad_norm(grads, 1.0)
        for k in model.params:
            m[k] = 0.9 * m[k] + 0.1 * grads[k]
            v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
            step = lr * (m[k] / (1 - 0.9**t)) / (np.sqrt(v[k] / (1 - 0.999**t)) + 1e-8)
            model.params[k] -= step
    return model
