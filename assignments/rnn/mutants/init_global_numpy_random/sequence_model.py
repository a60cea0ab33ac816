# Mutant init_global_numpy_random: RNNRegressor draws its initial weights from np.random instead
# of the rng it is given.
"""A small sequence regressor trained with your own BPTT and gradient clipping.

The model reads a sequence x (N, T, D) with a tanh RNN started from zeros and predicts one
number per sequence from the last hidden state: pred = h_T W_out^T + b_out, shape (N,).
"""

from __future__ import annotations

import numpy as np
from rnn_layers import clip_grad_norm, rnn_backward, rnn_forward


class RNNRegressor:
    """Tanh RNN + linear read-out of the last hidden state; weights live in self.params."""

    def __init__(self, input_dim: int, hidden_dim: int, rng: np.random.Generator) -> None:
        bound = 1.0 / np.sqrt(hidden_dim)  # PyTorch's default: U(-1/sqrt(H), 1/sqrt(H))
        shapes = {
            "W_ih": (hidden_dim, input_dim),
            "W_hh": (hidden_dim, hidden_dim),
            "b_ih": (hidden_dim,),
            "b_hh": (hidden_dim,),
            "W_out": (1, hidden_dim),
            "b_out": (1,),
        }
        self.params = {k: np.random.uniform(-bound, bound, shape) for k, shape in shapes.items()}

    def _run(self, x: np.ndarray) -> tuple[np.ndarray, object]:
        """Hidden states for a batch, always starting from h0 = 0 (sequences are independent)."""
        p = self.params
        h0 = np.zeros((x.shape[0], p["W_hh"].shape[0]))
        return rnn_forward(x, h0, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions (N,) for sequences x (N, T, D)."""
        h_all, _ = self._run(x)
        return h_all[:, -1] @ self.params["W_out"][0] + self.params["b_out"][0]

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Mean squared error over the batch and its gradient for every parameter."""
        p = self.params
        h_all, cache = self._run(x)
        h_last = h_all[:, -1]
        diff = h_last @ p["W_out"][0] + p["b_out"][0] - y
        dpred = 2.0 * diff / len(y)
        dh_all = np.zeros_like(h_all)
        dh_all[:, -1] = np.outer(dpred, p["W_out"][0])  # the loss only sees the last step
        _, _, dW_ih, dW_hh, db_ih, db_hh = rnn_backward(dh_all, cache)
        grads = {
            "W_ih": dW_ih,
            "W_hh": dW_hh,
            "b_ih": db_ih,
            "b_hh": db_hh,
            "W_out": (dpred @ h_last)[None, :],
            "b_out": np.array([dpred.sum()]),
        }
        return float(np.mean(diff**2)), grads


class Adam:
    """Adam (Kingma & Ba) on a dict of parameters, updated in place."""

    def __init__(
        self, params: dict[str, np.ndarray], lr: float, betas: tuple[float, float] = (0.9, 0.999)
    ) -> None:
        self.params, self.lr, self.betas, self.t = params, lr, betas, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """One bias-corrected Adam update."""
        b1, b2 = self.betas
        self.t += 1
        for k, g in grads.items():
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
            m_hat = self.m[k] / (1 - b1**self.t)
            v_hat = self.v[k] / (1 - b2**self.t)
            self.params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)


def train_regressor(
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    hidden_dim: int = 32,
    steps: int = 2000,
    batch_size: int = 64,
    lr: float = 1e-2,
    max_norm: float = 1.0,
) -> RNNRegressor:
    """Train an RNNRegressor on (x, y) with minibatch Adam, BPTT and gradient clipping."""
    model = RNNRegressor(x.shape[2], hidden_dim, rng)
    opt = Adam(model.params, lr)
    for step in range(steps):
        if step == (3 * steps) // 4:
            opt.lr = lr / 10  # a smaller final learning rate settles the loss
        idx = rng.integers(0, len(x), batch_size)
        _, grads = model.loss_and_grads(x[idx], y[idx])
        clip_grad_norm(grads, max_norm)
        opt.step(grads)
    return model
