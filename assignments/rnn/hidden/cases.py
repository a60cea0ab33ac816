"""Hidden cases for the rnn assignment: seeded inputs in, the submission's outputs back.

Runs inside the sandbox against both the submission and the reference solution; the grader
compares the returned dicts outside (see assignment.toml for points and tolerances). Every input
is float64 and handed over as a copy, because student code may modify its arguments.
"""

from __future__ import annotations

import numpy as np

# Gates per cell type in PyTorch's packed layout: RNN 1, LSTM 4 (i, f, g, o), GRU 3 (r, z, n).
RNN, LSTM, GRU = 1, 4, 3


def _normal(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    return scale * rng.standard_normal(shape)


def _weights(rng: np.random.Generator, gates: int, D: int, H: int) -> list[np.ndarray]:
    """W_ih, W_hh, b_ih, b_hh at a scale that keeps tanh and sigmoid away from saturation."""
    return [
        _normal(rng, (gates * H, D), 0.8 / np.sqrt(D)),
        _normal(rng, (gates * H, H), 0.8 / np.sqrt(H)),
        _normal(rng, (gates * H,), 0.5),
        _normal(rng, (gates * H,), 0.5),
    ]


def _copies(*arrays: np.ndarray) -> list[np.ndarray]:
    return [a.copy() for a in arrays]


def _named(names: str, values) -> dict[str, np.ndarray]:
    """Pair a space-separated list of output names with a returned tuple, in order."""
    keys = names.split()
    values = tuple(values)
    if len(values) != len(keys):
        raise ValueError(
            f"expected {len(keys)} return values ({', '.join(keys)}), got {len(values)}"
        )
    return dict(zip(keys, values, strict=True))


# ----------------------------------------------------------------------------- vanilla RNN

STEP_GRADS = "dx dh_prev dW_ih dW_hh db_ih db_hh"
SEQ_GRADS = "dx dh0 dW_ih dW_hh db_ih db_hh"


def rnn_step_forward(ctx) -> dict:
    layers = ctx.module("rnn_layers")
    N, D, H = 4, 5, 6
    x, h = _normal(ctx.rng, (N, D)), _normal(ctx.rng, (N, H), 0.5)
    h_next, _ = layers.rnn_step_forward(*_copies(x, h, *_weights(ctx.rng, RNN, D, H)))
    return {"h_next": h_next}


def rnn_step_backward(ctx) -> dict:
    layers = ctx.module("rnn_layers")
    N, D, H = 3, 7, 4
    x, h = _normal(ctx.rng, (N, D)), _normal(ctx.rng, (N, H), 0.5)
    _, cache = layers.rnn_step_forward(*_copies(x, h, *_weights(ctx.rng, RNN, D, H)))
    dh_next = _normal(ctx.rng, (N, H))
    return _named(STEP_GRADS, layers.rnn_step_backward(dh_next.copy(), cache))


def rnn_forward(ctx) -> dict:
    layers = ctx.module("rnn_layers")
    N, T, D, H = 3, 6, 4, 5
    x, h0 = _normal(ctx.rng, (N, T, D)), _normal(ctx.rng, (N, H), 0.5)
    h_all, _ = layers.rnn_forward(*_copies(x, h0, *_weights(ctx.rng, RNN, D, H)))
    return {"h_all": h_all}


def _rnn_bptt(ctx, N: int, T: int, D: int, H: int, last_step_only: bool) -> dict:
    """Forward a sequence, then backpropagate an upstream gradient on every (or the last) step."""
    layers = ctx.module("rnn_layers")
    x, h0 = _normal(ctx.rng, (N, T, D)), _normal(ctx.rng, (N, H), 0.5)
    _, cache = layers.rnn_forward(*_copies(x, h0, *_weights(ctx.rng, RNN, D, H)))
    dh_all = _normal(ctx.rng, (N, T, H))
    if last_step_only:
        dh_all[:, :-1] = 0.0
    return _named(SEQ_GRADS, layers.rnn_backward(dh_all.copy(), cache))


def rnn_backward_t1(ctx) -> dict:
    return _rnn_bptt(ctx, N=1, T=1, D=3, H=4, last_step_only=False)


def rnn_backward_t7(ctx) -> dict:
    return _rnn_bptt(ctx, N=3, T=7, D=4, H=5, last_step_only=False)


def rnn_backward_long(ctx) -> dict:
    return _rnn_bptt(ctx, N=2, T=50, D=3, H=6, last_step_only=True)


# ----------------------------------------------------------------------------------- LSTM


def _lstm_inputs(ctx, N: int, D: int, H: int) -> list[np.ndarray]:
    x = _normal(ctx.rng, (N, D))
    x[0] *= 10.0  # one row drives the gates deep into saturation
    h, c = _normal(ctx.rng, (N, H), 0.5), _normal(ctx.rng, (N, H))
    return _copies(x, h, c, *_weights(ctx.rng, LSTM, D, H))


def lstm_step_forward(ctx) -> dict:
    layers = ctx.module("rnn_layers")
    h_next, c_next, _ = layers.lstm_step_forward(*_lstm_inputs(ctx, N=4, D=3, H=5))
    return {"h_next": h_next, "c_next": c_next}


def lstm_step_backward(ctx) -> dict:
    layers = ctx.module("rnn_layers")
    N, D, H = 3, 4, 6
    _, _, cache = layers.lstm_step_forward(*_lstm_inputs(ctx, N, D, H))
    dh_next, dc_next = _normal(ctx.rng, (N, H)), _normal(ctx.rng, (N, H))
    grads = layers.lstm_step_backward(dh_next.copy(), dc_next.copy(), cache)
    return _named("dx dh_prev dc_prev dW_ih dW_hh db_ih db_hh", grads)


def lstm_forward(ctx) -> dict:
    layers = ctx.module("rnn_layers")
    N, T, D, H = 3, 5, 4, 3
    x = _normal(ctx.rng, (N, T, D))
    h0, c0 = _normal(ctx.rng, (N, H), 0.5), _normal(ctx.rng, (N, H))
    h_all, c_last = layers.lstm_forward(*_copies(x, h0, c0, *_weights(ctx.rng, LSTM, D, H)))
    return {"h_all": h_all, "c_last": c_last}


# ------------------------------------------------------------------------------------ GRU


def gru_step_forward(ctx) -> dict:
    layers = ctx.module("rnn_layers")
    N, D, H = 4, 6, 5
    x, h = _normal(ctx.rng, (N, D)), _normal(ctx.rng, (N, H), 0.5)
    h_next, _ = layers.gru_step_forward(*_copies(x, h, *_weights(ctx.rng, GRU, D, H)))
    return {"h_next": h_next}


def gru_step_backward(ctx) -> dict:
    layers = ctx.module("rnn_layers")
    N, D, H = 3, 5, 4
    x, h = _normal(ctx.rng, (N, D)), _normal(ctx.rng, (N, H), 0.5)
    _, cache = layers.gru_step_forward(*_copies(x, h, *_weights(ctx.rng, GRU, D, H)))
    dh_next = _normal(ctx.rng, (N, H))
    return _named(STEP_GRADS, layers.gru_step_backward(dh_next.copy(), cache))


# ------------------------------------------------------------------------------- clipping


def _clip(ctx, scale: float, max_norm: float) -> dict:
    """Clip a dict of gradients in place; return the norm and every clipped array."""
    layers = ctx.module("rnn_layers")
    shapes = {"W_ih": (8, 3), "W_hh": (8, 8), "b_ih": (8,), "W_out": (1, 8)}
    # Different scales per array, so clipping each array on its own gives other results.
    grads = {k: _normal(ctx.rng, s, scale * (i + 1)) for i, (k, s) in enumerate(shapes.items())}
    total_norm = layers.clip_grad_norm(grads, max_norm)
    return {"total_norm": float(total_norm), **{f"grad_{k}": v for k, v in grads.items()}}


def clip_grad_norm_above(ctx) -> dict:
    # Total norm ~2e-3: at this size the 1e-6 in max_norm / (norm + 1e-6) changes the result.
    return _clip(ctx, scale=1e-4, max_norm=3e-4)


def clip_grad_norm_below(ctx) -> dict:
    return _clip(ctx, scale=0.1, max_norm=100.0)


# ------------------------------------------------------------------------ sequence model

REGRESSOR_KEYS = ("W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out")


def _regressor(ctx, D: int, H: int):
    """An RNNRegressor whose weights are replaced by seeded ones (the contract: self.params)."""
    model_mod = ctx.module("sequence_model")
    model = model_mod.RNNRegressor(D, H, np.random.default_rng(0))
    W_ih, W_hh, b_ih, b_hh = _weights(ctx.rng, RNN, D, H)
    given = [W_ih, W_hh, b_ih, b_hh, _normal(ctx.rng, (1, H)), _normal(ctx.rng, (1,))]
    for key, value in zip(REGRESSOR_KEYS, given, strict=True):
        model.params[key] = value.copy()
    return model


def regressor_loss_grads(ctx) -> dict:
    N, T, D, H = 5, 6, 2, 4
    model = _regressor(ctx, D, H)
    x, y = _normal(ctx.rng, (N, T, D)), _normal(ctx.rng, (N,))
    loss, grads = model.loss_and_grads(x.copy(), y.copy())
    return {"loss": float(loss), **{f"d{k}": grads[k] for k in REGRESSOR_KEYS}}


def regressor_predict(ctx) -> dict:
    N, T, D, H = 4, 5, 3, 6
    model = _regressor(ctx, D, H)
    first, second = _normal(ctx.rng, (N, T, D)), _normal(ctx.rng, (N, T, D))
    # Two batches in a row: the second must not start from the first one's final state.
    return {"pred_first": model.predict(first.copy()), "pred_second": model.predict(second.copy())}


def train_adding(ctx) -> dict:
    """train_regressor on this run's variant of the adding task (hidden/rundata.py); returns
    the learned weights. The held-out sequences never enter the sandbox: hidden/checks.py runs
    these weights through the handout's model on the worker and measures the error there."""
    model_mod = ctx.module("sequence_model")
    x = np.load(ctx.data("run/adding_train_x.npy"), allow_pickle=False)
    y = np.load(ctx.data("run/adding_train_y.npy"), allow_pickle=False)
    seed = int(ctx.rng.integers(2**32))
    model = model_mod.train_regressor(x.copy(), y.copy(), np.random.default_rng(seed))
    params = model.params
    # Only the six documented arrays go out; a missing one is reported by the check.
    return {k: np.asarray(params[k], dtype=np.float64) for k in REGRESSOR_KEYS if k in params}
