"""Recurrent layers in NumPy: vanilla RNN, LSTM and GRU cells, BPTT and gradient clipping.

Weight layout follows PyTorch (torch.nn.RNN / LSTM / GRU): W_ih is (G*H, D), W_hh is (G*H, H),
b_ih and b_hh are (G*H,), with G = 1 (RNN), 4 (LSTM, gates i, f, g, o) or 3 (GRU, gates r, z, n).
Batches are rows: x is (N, D), h is (N, H); sequences are batch-first (N, T, D).

Every function below raises NotImplementedError until you write it. Use NumPy only (torch,
tensorflow, jax and autograd are refused by the grader). Do not modify the arrays you are given:
build new ones. Compute in float64 (never astype(np.float32)). The README lists every equation
and the exact return order.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def sigmoid(x: Array) -> Array:
    """Logistic function 1 / (1 + exp(-x)), elementwise, that never overflows.

    Hint: for x < 0 use exp(x) / (1 + exp(x)) so that exp() never sees a large positive number
    (np.where computes both of its branches for every element, so it does not avoid that).
    Graded on its own and through your LSTM and GRU, on inputs up to about +-1000: the values
    must be right and NumPy must not warn.
    """
    # TODO
    raise NotImplementedError("sigmoid")


# ----------------------------------------------------------------------------- vanilla RNN


def rnn_step_forward(
    x: Array, h_prev: Array, W_ih: Array, W_hh: Array, b_ih: Array, b_hh: Array
) -> tuple[Array, tuple]:
    """One tanh RNN step: h_next = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh).

    x (N, D), h_prev (N, H), W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,).
    Returns (h_next (N, H), cache); cache is anything rnn_step_backward needs.
    """
    # TODO
    raise NotImplementedError("rnn_step_forward")


def rnn_step_backward(dh_next: Array, cache: tuple) -> tuple[Array, ...]:
    """Gradients of one RNN step, given dLoss/dh_next (N, H) and the cache from the forward step.

    Returns (dx (N, D), dh_prev (N, H), dW_ih (H, D), dW_hh (H, H), db_ih (H,), db_hh (H,)).
    """
    # TODO
    raise NotImplementedError("rnn_step_backward")


def rnn_forward(
    x: Array, h0: Array, W_ih: Array, W_hh: Array, b_ih: Array, b_hh: Array
) -> tuple[Array, list]:
    """Run the RNN over a whole sequence x (N, T, D), starting from h0 (N, H).

    Returns (h_all (N, T, H), cache) where h_all[:, t] is the hidden state after step t
    (h0 itself is not included), like the output of torch.nn.RNN(batch_first=True).
    """
    # TODO
    raise NotImplementedError("rnn_forward")


def rnn_backward(dh_all: Array, cache: list) -> tuple[Array, ...]:
    """Backpropagation through time.

    dh_all (N, T, H) is dLoss/dh_t coming from the loss at every step (zeros where a step has
    no loss). Returns (dx (N, T, D), dh0 (N, H), dW_ih, dW_hh, db_ih, db_hh), with the weight
    gradients summed over all time steps. Full BPTT: walk back all the way to t = 0.
    """
    # TODO
    raise NotImplementedError("rnn_backward")


# ----------------------------------------------------------------------------------- LSTM


def lstm_step_forward(
    x: Array, h_prev: Array, c_prev: Array, W_ih: Array, W_hh: Array, b_ih: Array, b_hh: Array
) -> tuple[Array, Array, tuple]:
    """One LSTM step with PyTorch's gate order i, f, g, o.

    x (N, D), h_prev and c_prev (N, H), W_ih (4H, D), W_hh (4H, H), b_ih and b_hh (4H,).
    a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh is split into four (N, H) blocks in the order
    i, f, g, o; i, f, o go through sigmoid and g through tanh.
    c_next = f * c_prev + i * g;  h_next = o * tanh(c_next).
    Returns (h_next (N, H), c_next (N, H), cache).
    """
    # TODO
    raise NotImplementedError("lstm_step_forward")


def lstm_step_backward(dh_next: Array, dc_next: Array, cache: tuple) -> tuple[Array, ...]:
    """Gradients of one LSTM step, given dLoss/dh_next and dLoss/dc_next (both (N, H)).

    Remember that c_next reaches the loss twice: directly (dc_next) and through h_next.
    Returns (dx (N, D), dh_prev (N, H), dc_prev (N, H), dW_ih (4H, D), dW_hh (4H, H),
    db_ih (4H,), db_hh (4H,)).
    """
    # TODO
    raise NotImplementedError("lstm_step_backward")


def lstm_forward(
    x: Array, h0: Array, c0: Array, W_ih: Array, W_hh: Array, b_ih: Array, b_hh: Array
) -> tuple[Array, Array]:
    """Run the LSTM over x (N, T, D) from (h0, c0), both (N, H).

    Returns (h_all (N, T, H), c_last (N, H)): every hidden state, and the cell state after the
    last step, like torch.nn.LSTM(batch_first=True)'s output and c_n[0].
    """
    # TODO
    raise NotImplementedError("lstm_forward")


# ------------------------------------------------------------------------------------ GRU


def gru_step_forward(
    x: Array, h_prev: Array, W_ih: Array, W_hh: Array, b_ih: Array, b_hh: Array
) -> tuple[Array, tuple]:
    """One GRU step in PyTorch's form, gate order r, z, n.

    x (N, D), h_prev (N, H), W_ih (3H, D), W_hh (3H, H), b_ih and b_hh (3H,).
    gi = x W_ih^T + b_ih and gh = h_prev W_hh^T + b_hh, each split into r, z, n blocks:
      r = sigmoid(gi_r + gh_r);  z = sigmoid(gi_z + gh_z)
      n = tanh(gi_n + r * gh_n)            (b_hn is inside gh_n, so inside the product with r)
      h_next = (1 - z) * n + z * h_prev
    Returns (h_next (N, H), cache).
    """
    # TODO
    raise NotImplementedError("gru_step_forward")


def gru_step_backward(dh_next: Array, cache: tuple) -> tuple[Array, ...]:
    """Gradients of one GRU step, given dLoss/dh_next (N, H).

    Returns (dx (N, D), dh_prev (N, H), dW_ih (3H, D), dW_hh (3H, H), db_ih (3H,), db_hh (3H,)).
    """
    # TODO
    raise NotImplementedError("gru_step_backward")


# ------------------------------------------------------------------------------- clipping


def clip_grad_norm(grads: dict[str, Array], max_norm: float) -> float:
    """Clip gradients in place by their global L2 norm, exactly like torch's clip_grad_norm_.

    total_norm = sqrt(sum of g**2 over every entry of every array in grads.values());
    coef = max_norm / (total_norm + 1e-6); if coef < 1, multiply every array by coef IN PLACE
    (the caller keeps using the same array objects); otherwise leave them untouched.
    Returns total_norm (the norm before clipping) as a Python float.
    """
    # TODO
    raise NotImplementedError("clip_grad_norm")
