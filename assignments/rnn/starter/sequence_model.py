"""A small sequence regressor trained with your own BPTT and gradient clipping.

The model reads a sequence x (N, T, D) with a tanh RNN started from zeros and predicts one
number per sequence from the last hidden state: pred = h_T W_out^T + b_out, shape (N,).
Build it on your rnn_forward, rnn_backward and clip_grad_norm from rnn_layers.py.
"""

from __future__ import annotations

import numpy as np
from rnn_layers import clip_grad_norm, rnn_backward, rnn_forward  # noqa: F401 (you will use them)


class RNNRegressor:
    """Tanh RNN + linear read-out of the last hidden state; weights live in self.params."""

    def __init__(self, input_dim: int, hidden_dim: int, rng: np.random.Generator) -> None:
        """Create self.params, a dict of float64 arrays with exactly these keys and shapes.

        With D = input_dim and H = hidden_dim:
        "W_ih" (H, D), "W_hh" (H, H), "b_ih" (H,), "b_hh" (H,), "W_out" (1, H), "b_out" (1,).
        Draw every entry from rng, not np.random (suggested: uniform in [-1/sqrt(H), 1/sqrt(H)],
        as PyTorch): the same seed must give the same weights.
        The grader may replace entries of self.params, so always read the weights from there.
        """
        # TODO
        raise NotImplementedError("RNNRegressor.__init__")

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions (N,) for sequences x (N, T, D); every call starts from h0 = zeros."""
        # TODO
        raise NotImplementedError("RNNRegressor.predict")

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Mean squared error mean((pred - y)**2) over the batch, and its gradients.

        Returns (loss as a float, grads): grads has the same keys and shapes as self.params.
        The loss only looks at the last step, so dh_all is zero except at t = T - 1.
        """
        # TODO
        raise NotImplementedError("RNNRegressor.loss_and_grads")


def train_regressor(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> RNNRegressor:
    """Train an RNNRegressor on x (N, T, D), y (N,) and return it.

    Use rng for everything random (initial weights, minibatches) so a run can be repeated.
    A recipe that works (see the README): hidden size 32, 2000 Adam steps on minibatches of
    64 with lr 1e-2 (1e-3 for the last quarter), gradients clipped to a global norm of 1.0.
    """
    # TODO
    raise NotImplementedError("train_regressor")
