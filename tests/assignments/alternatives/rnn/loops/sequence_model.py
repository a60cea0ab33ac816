"""A correct sequence_model.py: the handout's recipe written differently (staff fixture).

Minibatches are drawn without replacement within each batch, Adam keeps its moments in one
dict per parameter, and the learning rate drops by 10 after 1500 of 2000 steps.
"""

import numpy as np
from rnn_layers import clip_grad_norm, rnn_backward, rnn_forward

KEYS = ["W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out"]


class RNNRegressor:
    def __init__(self, input_dim, hidden_dim, rng):
        H, D = hidden_dim, input_dim
        s = 1.0 / np.sqrt(H)
        self.params = {}
        for key, shape in zip(KEYS, [(H, D), (H, H), (H,), (H,), (1, H), (1,)], strict=True):
            self.params[key] = rng.uniform(-s, s, size=shape)

    def _hidden(self, x):
        p = self.params
        h0 = np.zeros((len(x), p["W_hh"].shape[1]))
        return rnn_forward(x, h0, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])

    def predict(self, x):
        h_all, _ = self._hidden(x)
        return h_all[:, -1, :].dot(self.params["W_out"][0]) + self.params["b_out"][0]

    def loss_and_grads(self, x, y):
        h_all, cache = self._hidden(x)
        last = h_all[:, -1, :]
        err = last.dot(self.params["W_out"][0]) + self.params["b_out"][0] - y
        loss = float(np.sum(err * err) / len(y))
        g = (2.0 / len(y)) * err
        dh_all = np.zeros(h_all.shape)
        dh_all[:, -1, :] = g[:, None] * self.params["W_out"]
        _, _, dW_ih, dW_hh, db_ih, db_hh = rnn_backward(dh_all, cache)
        grads = {"W_ih": dW_ih, "W_hh": dW_hh, "b_ih": db_ih, "b_hh": db_hh}
        grads["W_out"] = (last.T @ g).reshape(1, -1)
        grads["b_out"] = np.array([g.sum()])
        return loss, grads


def train_regressor(x, y, rng):
    model = RNNRegressor(x.shape[2], 32, rng)
    state = {k: {"m": np.zeros_like(v), "v": np.zeros_like(v)} for k, v in model.params.items()}
    for step in range(1, 2001):
        lr = 1e-2 if step <= 1500 else 1e-3
        batch = rng.choice(len(x), size=64, replace=False)
        _, grads = model.loss_and_grads(x[batch], y[batch])
        clip_grad_norm(grads, 1.0)
        for k, g in grads.items():
            s = state[k]
            s["m"] = 0.9 * s["m"] + 0.1 * g
            s["v"] = 0.999 * s["v"] + 0.001 * g**2
            m_hat = s["m"] / (1.0 - 0.9**step)
            v_hat = s["v"] / (1.0 - 0.999**step)
            model.params[k] = model.params[k] - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
    return model
