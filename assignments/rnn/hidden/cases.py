"""Hidden cases for the rnn assignment: seeded inputs in, the submission's outputs back.

Runs inside the sandbox against both the submission and the reference solution; the grader
compares the returned dicts outside (see assignment.toml for points and tolerances, STAFF.md for
which handout requirement each case checks). Every input is float64 and handed over as a copy,
because student code may modify its arguments; the cases that check a promise the handout makes
about the call itself (no overflow warning, float64, inputs left alone, clipping in place,
reproducible initialisation) return it as a boolean flag next to the values.

Detection must not depend on the draw: where a mistake only shows under some inputs, the inputs
are built so that it shows on every draw (e.g. rnn_backward_long keeps the gradient at step 0 as
large as at the last step, so truncated BPTT is visible whatever the seed).
"""

from __future__ import annotations

import warnings

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


def _orthogonal(rng: np.random.Generator, H: int) -> np.ndarray:
    """A random orthogonal (H, H) matrix: it keeps the norm of what it multiplies."""
    q, r = np.linalg.qr(rng.standard_normal((H, H)))
    return q * np.sign(np.diag(r))


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


def _float64(values) -> bool:
    """Whether every value is a NumPy array of float64 (not a list, not float32)."""
    return all(isinstance(v, np.ndarray) and v.dtype == np.float64 for v in values)


# ----------------------------------------------------------------------------- vanilla RNN

STEP_GRADS = "dx dh_prev dW_ih dW_hh db_ih db_hh"
SEQ_GRADS = "dx dh0 dW_ih dW_hh db_ih db_hh"
LSTM_GRADS = "dx dh_prev dc_prev dW_ih dW_hh db_ih db_hh"


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
    """T = 50, a loss at the last step only, and a gradient that does not vanish on the way back.

    With the random weights of the other cases the gradient shrinks by a roughly constant
    factor per step and is ~1e-17 at step 0, far below any tolerance, so truncated BPTT went
    unseen on most draws. Here W_hh is orthogonal (it keeps the norm of what it multiplies) and
    the inputs and biases are small (the states stay small, so tanh' stays near 1): over 1000
    draws the gradient reaching h0 is at least 3% of the one at the last step and max |dh0| at
    least 8e9 times atol (tools/bptt_reach.py), so any truncation fails on every draw.
    """
    layers = ctx.module("rnn_layers")
    N, T, D, H = 2, 50, 3, 6
    x, h0 = _normal(ctx.rng, (N, T, D), 0.1), _normal(ctx.rng, (N, H), 0.1)
    W_ih, W_hh = _normal(ctx.rng, (H, D), 0.5 / np.sqrt(D)), _orthogonal(ctx.rng, H)
    b_ih, b_hh = _normal(ctx.rng, (H,), 0.005), _normal(ctx.rng, (H,), 0.005)
    _, cache = layers.rnn_forward(*_copies(x, h0, W_ih, W_hh, b_ih, b_hh))
    dh_all = np.zeros((N, T, H))
    dh_all[:, -1] = _normal(ctx.rng, (N, H))
    return _named(SEQ_GRADS, layers.rnn_backward(dh_all.copy(), cache))


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
    return _named(LSTM_GRADS, grads)


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


# -------------------------------------------------------------- promises about every call

# Pre-activations where a naive 1 / (1 + exp(-a)) overflows (exp(710) is inf) and where
# exp(a) / (1 + exp(a)) gives inf / inf; the right answers are exactly 0 or 1 (or denormal).
EXTREMES = (-1000.0, -745.0, -710.0, -50.0, -1.0, 0.0, 1.0, 50.0, 710.0, 745.0, 1000.0)


def _overflowing(rng: np.random.Generator, D: int, gate_rows: list[np.ndarray]) -> np.ndarray:
    """Inputs v, -v and a random row at scale 1000, with v scaled so that in each block of
    sigmoid-gate weights some row w has |w . v| >= 2000.

    One of v and -v then puts that gate's pre-activation below -2000 + (biases and h @ W_hh,
    a few units), past the -709.78 where exp(-a) overflows: on every draw, not most of them
    (a random x at scale 1000 let a GRU with a naive sigmoid through on 2.2% of seeds).
    """
    v = _normal(rng, D)
    reach = min(float(np.max(np.abs(rows @ v))) for rows in gate_rows)
    v *= 2000.0 / reach
    return np.stack([v, -v, _normal(rng, D, 1000.0)])


def sigmoid_stability(ctx) -> dict:
    """sigmoid, and the LSTM and GRU steps that use it, on inputs that overflow a naive exp.

    Every call runs with warnings recorded and NumPy set to warn on overflow, division by zero
    and invalid operations (underflow to 0 is the right answer here, so it is ignored); each
    function reports whether it warned, next to its values. A naive sigmoid gets the values
    right (1 / inf = 0) and is caught by its warning.
    """
    layers = ctx.module("rnn_layers")
    a = np.array(EXTREMES) * (1.0 + 0.01 * ctx.rng.random(len(EXTREMES)))
    a = np.stack([a, -a, _normal(ctx.rng, len(EXTREMES), 3.0)])
    N, D, H = 3, 4, 5
    h, c = _normal(ctx.rng, (N, H), 0.5), _normal(ctx.rng, (N, H))
    lstm_w, gru_w = _weights(ctx.rng, LSTM, D, H), _weights(ctx.rng, GRU, D, H)
    x = _overflowing(ctx.rng, D, [lstm_w[0][:H], gru_w[0][:H]])

    def quietly(call):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
                result = call()
        return result, not caught

    s, sigmoid_quiet = quietly(lambda: layers.sigmoid(a.copy()))
    (lstm_h, lstm_c, _), lstm_quiet = quietly(
        lambda: layers.lstm_step_forward(*_copies(x, h, c, *lstm_w))
    )
    (gru_h, _), gru_quiet = quietly(lambda: layers.gru_step_forward(*_copies(x, h, *gru_w)))
    return {
        "sigmoid": s,
        "lstm_h_next": lstm_h,
        "lstm_c_next": lstm_c,
        "gru_h_next": gru_h,
        "sigmoid_warned_nothing": sigmoid_quiet,
        "lstm_warned_nothing": lstm_quiet,
        "gru_warned_nothing": gru_quiet,
    }


BIG = 1e4  # the cancelling bias of float64_compute


def _cancelling(rng: np.random.Generator, weights: list[np.ndarray], blocks: int, H: int):
    """The same layer with +-BIG added to b_ih and taken off b_hh in the first `blocks` blocks.

    The sum a = ... + b_ih + ... + b_hh is unchanged, but computing it loses ~BIG * 6e-8 in
    float32 (a few 1e-4, far above the tolerance) and ~BIG * 1e-16 in float64.
    """
    W_ih, W_hh, b_ih, b_hh = weights
    big = np.zeros_like(b_ih)
    big[: blocks * H] = BIG * rng.choice([-1.0, 1.0], blocks * H)
    return [W_ih, W_hh, b_ih + big, b_hh - big]


def float64_compute(ctx) -> dict:
    """The RNN over a sequence and its BPTT, one LSTM step and one GRU step (with their
    backward passes), on layers whose two biases cancel at +-1e4: computing in float32 anywhere
    before the biases cancel costs ~1e-4, far above the tolerance. A flag reports whether every
    returned array is a float64 ndarray (float32 storage, or lists, fail it)."""
    layers = ctx.module("rnn_layers")
    rng = ctx.rng
    N, T, D, H = 3, 4, 3, 4
    x, h0, c0 = _normal(rng, (N, T, D)), _normal(rng, (N, H), 0.5), _normal(rng, (N, H))
    rnn_w = _cancelling(rng, _weights(rng, RNN, D, H), RNN, H)
    lstm_w = _cancelling(rng, _weights(rng, LSTM, D, H), LSTM, H)
    gru_w = _cancelling(rng, _weights(rng, GRU, D, H), 2, H)  # r, z; n would saturate
    dh_all, dh_next, dc_next = _normal(rng, (N, T, H)), _normal(rng, (N, H)), _normal(rng, (N, H))

    h_all, cache = layers.rnn_forward(*_copies(x, h0, *rnn_w))
    rnn_grads = _named(SEQ_GRADS, layers.rnn_backward(dh_all.copy(), cache))
    lstm_h, lstm_c, cache = layers.lstm_step_forward(*_copies(x[:, 0], h0, c0, *lstm_w))
    lstm_grads = _named(LSTM_GRADS, layers.lstm_step_backward(*_copies(dh_next, dc_next), cache))
    gru_h, cache = layers.gru_step_forward(*_copies(x[:, 0], h0, *gru_w))
    gru_grads = _named(STEP_GRADS, layers.gru_step_backward(dh_next.copy(), cache))

    outputs = {"rnn_h_all": h_all, "lstm_h_next": lstm_h, "lstm_c_next": lstm_c}
    outputs["gru_h_next"] = gru_h
    for prefix, grads in (("rnn", rnn_grads), ("lstm", lstm_grads), ("gru", gru_grads)):
        outputs |= {f"{prefix}_{k}": v for k, v in grads.items()}
    return outputs | {"all_float64_arrays": _float64(outputs.values())}


def _leaves(call, *arrays: np.ndarray) -> bool:
    """Run call(*copies of arrays); whether the copies it was given still equal the arrays."""
    given = _copies(*arrays)
    call(*given)
    return all(np.array_equal(g, a) for g, a in zip(given, arrays, strict=True))


def inputs_unchanged(ctx) -> dict:
    """Every forward and backward function (and RNNRegressor's predict and loss_and_grads)
    leaves the arrays it is given as they were: one flag per function, checked after the
    backward pass too (which may write into arrays the forward kept in its cache)."""
    L = ctx.module("rnn_layers")
    model = _regressor(ctx, D=2, H=5)
    rng = ctx.rng
    N, T, D, H = 3, 4, 2, 5
    x, xs = _normal(rng, (N, D)), _normal(rng, (N, T, D))
    h, c, y = _normal(rng, (N, H), 0.5), _normal(rng, (N, H)), _normal(rng, (N,))
    dh, dc, dh_all = _normal(rng, (N, H)), _normal(rng, (N, H)), _normal(rng, (N, T, H))
    rnn_w, lstm_w, gru_w = (_weights(rng, gates, D, H) for gates in (RNN, LSTM, GRU))

    def rnn_step(x, h, dh_next, *w):
        L.rnn_step_backward(dh_next, L.rnn_step_forward(x, h, *w)[1])

    def rnn_sequence(xs, h0, dh_all, *w):
        L.rnn_backward(dh_all, L.rnn_forward(xs, h0, *w)[1])

    def lstm_step(x, h, c, dh_next, dc_next, *w):
        L.lstm_step_backward(dh_next, dc_next, L.lstm_step_forward(x, h, c, *w)[2])

    def gru_step(x, h, dh_next, *w):
        L.gru_step_backward(dh_next, L.gru_step_forward(x, h, *w)[1])

    def regressor(xs, y):
        model.predict(xs)
        model.loss_and_grads(xs, y)

    return {
        "rnn_step_leaves_inputs": _leaves(rnn_step, x, h, dh, *rnn_w),
        "rnn_sequence_leaves_inputs": _leaves(rnn_sequence, xs, h, dh_all, *rnn_w),
        "lstm_step_leaves_inputs": _leaves(lstm_step, x, h, c, dh, dc, *lstm_w),
        "lstm_forward_leaves_inputs": _leaves(L.lstm_forward, xs, h, c, *lstm_w),
        "gru_step_leaves_inputs": _leaves(gru_step, x, h, dh, *gru_w),
        "regressor_leaves_inputs": _leaves(regressor, xs, y),
    }


# ------------------------------------------------------------------------------- clipping


def _clip(ctx, scale: float, max_norm: float) -> dict:
    """Clip a dict of gradients; return the norm and the arrays the caller handed over.

    The caller keeps its own references to the original arrays and reads those back (not
    whatever the dict holds afterwards): clipping must scale these very arrays in place.
    """
    layers = ctx.module("rnn_layers")
    shapes = {"W_ih": (8, 3), "W_hh": (8, 8), "b_ih": (8,), "W_out": (1, 8)}
    # Different scales per array, so clipping each array on its own gives other results.
    grads = {k: _normal(ctx.rng, s, scale * (i + 1)) for i, (k, s) in enumerate(shapes.items())}
    kept = dict(grads)  # the same array objects, as an optimiser holding them would see them
    total_norm = layers.clip_grad_norm(grads, max_norm)
    same = set(grads) == set(kept) and all(grads[k] is kept[k] for k in kept)
    return {
        "total_norm": np.asarray(total_norm, dtype=np.float64),
        "total_norm_is_float": isinstance(total_norm, float),
        "same_arrays_in_dict": same,
        **{f"grad_{k}": v for k, v in kept.items()},
    }


def clip_grad_norm_above(ctx) -> dict:
    # Total norm ~2e-3: at this size the 1e-6 in max_norm / (norm + 1e-6) changes the result
    # by ~5e-4 relative, far above the tolerance.
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


def regressor_params(ctx) -> dict:
    """RNNRegressor(D, H, rng).params: exactly the six keys, their shapes, float64, and drawn
    from rng (the same seed gives the same weights, another seed other weights)."""
    model_mod = ctx.module("sequence_model")
    D, H = 3, 7
    seed = int(ctx.rng.integers(2**32))
    first, again, other = (
        model_mod.RNNRegressor(D, H, np.random.default_rng(s)).params
        for s in (seed, seed, seed + 1)
    )
    missing = [k for k in REGRESSOR_KEYS if k not in first]
    if missing:
        raise KeyError(f"self.params has no {', '.join(map(repr, missing))}")
    return {
        "keys_are_the_six": sorted(first) == sorted(REGRESSOR_KEYS),
        **{f"shape_{k}": np.array(np.shape(first[k]), dtype=np.int64) for k in REGRESSOR_KEYS},
        "float64_arrays": _float64(first[k] for k in REGRESSOR_KEYS),
        "same_seed_same_params": all(np.array_equal(first[k], again[k]) for k in REGRESSOR_KEYS),
        "other_seed_other_params": any(
            not np.array_equal(first[k], other[k]) for k in REGRESSOR_KEYS
        ),
    }


def regressor_loss_grads(ctx) -> dict:
    N, T, D, H = 5, 6, 2, 4
    model = _regressor(ctx, D, H)
    x, y = _normal(ctx.rng, (N, T, D)), _normal(ctx.rng, (N,))
    loss, grads = model.loss_and_grads(x.copy(), y.copy())
    return {
        "loss": np.asarray(loss, dtype=np.float64),
        "loss_is_float": isinstance(loss, float),
        **{f"d{k}": grads[k] for k in REGRESSOR_KEYS},
    }


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
