"""Hidden cases of the backprop assignment: each builds seeded inputs, calls the student's code
and returns what it got. Scoring happens outside the sandbox (assignments/README.md).

Rules kept by every case:
- every input is drawn from ctx.rng BEFORE student code runs (student code that consumes a
  generator must never shift the inputs of the reference run or of a later call);
- student code gets copies, so a function that mutates its inputs cannot corrupt the case;
- a case calls only what it tests (the network cases build their upstream gradient here
  instead of calling the student's loss).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

TRAIN_EPOCHS = 20
TRAIN_LR = 0.1
TRAIN_BATCH = 32
DEEP_SLOPE = 0.1
NUMGRAD_H = 1e-3  # large enough that rounding in f stays ~1e-11 (see STAFF.md, tolerances)
HE_DIMS = [300, 200, 10]  # MLP(dims) without rng: enough entries to measure the scale
# train_history: 50 rows in batches of 16 leave a last batch of 2 (weighted and plain means of
# the batch losses differ, and dropping it shows)
HISTORY_N, HISTORY_BATCH, HISTORY_EPOCHS, HISTORY_LR = 50, 16, 4, 0.3


def _normal(ctx, *shape: int) -> np.ndarray:
    """Standard normal float64 array of the given shape (never exactly 0)."""
    return ctx.rng.standard_normal(shape)


def _set_params(net, params: dict[str, np.ndarray]) -> None:
    """Overwrite the network's parameters with copies of the case's arrays."""
    for name, value in params.items():
        net.params[name] = value.copy()


def _mlp_params(ctx, dims: list[int]) -> dict[str, np.ndarray]:
    """Random W1, b1, ..., WL, bL for an MLP with the given sizes (W shaped (D_out, D_in))."""
    params = {}
    for i in range(1, len(dims)):
        params[f"W{i}"] = ctx.rng.standard_normal((dims[i], dims[i - 1])) / np.sqrt(dims[i - 1])
        params[f"b{i}"] = 0.5 * ctx.rng.standard_normal(dims[i])
    return params


def _pin_units(W: np.ndarray, b: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Make unit 0 of a layer negative and unit 1 positive on EVERY input whose entries satisfy
    |h_j| <= bound[j] (by at least 0.5), by choosing their biases. Returns the bound on the
    layer's pre-activations |W h + b|, for the next layer."""
    reach = np.abs(W) @ bound
    b[0], b[1] = -(reach[0] + 0.5), reach[1] + 0.5
    return reach + np.abs(b)


def _grads(net, num_layers: int) -> dict[str, np.ndarray]:
    """The network's gradients under output names dW1, db1, ..."""
    out = {}
    for i in range(1, num_layers + 1):
        out[f"dW{i}"] = net.grads[f"W{i}"]
        out[f"db{i}"] = net.grads[f"b{i}"]
    return out


# ---------------------------------------------------------------- linear layer


def linear_forward(ctx) -> dict:
    layers = ctx.module("layers")
    x, W, b = _normal(ctx, 6, 5), _normal(ctx, 7, 5), _normal(ctx, 7)
    out, _cache = layers.linear_forward(x.copy(), W.copy(), b.copy())
    return {"out": out}


def linear_backward(ctx) -> dict:
    layers = ctx.module("layers")
    x, W, b = _normal(ctx, 8, 3), _normal(ctx, 5, 3), _normal(ctx, 5)
    dout = _normal(ctx, 8, 5)
    _out, cache = layers.linear_forward(x.copy(), W.copy(), b.copy())
    dx, dW, db = layers.linear_backward(dout.copy(), cache)
    return {"dx": dx, "dW": dW, "db": db}


# ---------------------------------------------------------------- activations


def _both_signs(ctx, shape: tuple[int, ...], scale: float) -> np.ndarray:
    """scale * standard normal whose first 8 entries alternate in sign, at least 0.25 * scale
    away from 0 (so both branches of every activation are exercised on every draw)."""
    x = scale * ctx.rng.standard_normal(shape)
    flat = x.reshape(-1)  # a view: writing it writes x
    k = min(flat.size, 8)
    signs = np.where(np.arange(k) % 2 == 0, 1.0, -1.0)
    flat[:k] = signs * scale * ctx.rng.uniform(0.25, 2.0, size=k)
    return x


def _away_from_zero(ctx, shape: tuple[int, ...]) -> np.ndarray:
    """Random signs times magnitudes in [0.5, 2): an upstream gradient with no tiny entries."""
    signs = np.where(ctx.rng.random(shape) < 0.5, -1.0, 1.0)
    return signs * ctx.rng.uniform(0.5, 2.0, size=shape)


def _activation(ctx, forward, backward, shape=(3, 4, 6), scale: float = 2.0, **kwargs) -> dict:
    """Forward then backward of one activation on random inputs of both signs (3-D by default:
    activations take any shape)."""
    x = _both_signs(ctx, shape, scale)
    dout = _away_from_zero(ctx, shape)
    out, cache = forward(x.copy(), **kwargs)
    dx = backward(dout.copy(), cache)
    return {"out": out, "dx": dx}


def sigmoid(ctx) -> dict:
    layers = ctx.module("layers")
    return _activation(ctx, layers.sigmoid_forward, layers.sigmoid_backward, scale=3.0)


def tanh(ctx) -> dict:
    layers = ctx.module("layers")
    return _activation(ctx, layers.tanh_forward, layers.tanh_backward)


def relu(ctx) -> dict:
    layers = ctx.module("layers")
    return _activation(ctx, layers.relu_forward, layers.relu_backward)


def leaky_relu(ctx) -> dict:
    layers = ctx.module("layers")
    custom = _activation(
        ctx, layers.leaky_relu_forward, layers.leaky_relu_backward, negative_slope=0.2
    )
    default = _activation(ctx, layers.leaky_relu_forward, layers.leaky_relu_backward, (4, 3))
    return {
        "out": custom["out"],
        "dx": custom["dx"],
        "out_default_slope": default["out"],
        "dx_default_slope": default["dx"],
    }


def activation_kinks(ctx) -> dict:
    layers = ctx.module("layers")
    x = _both_signs(ctx, (4, 6), 1.0)
    # Exact zeros in every row, among positive and negative entries: ReLU'(0) = 0 and
    # LeakyReLU'(0) = slope, where dout is far from 0 (a >= 0 mask is off by >= 0.5 there).
    x[np.arange(4), ctx.rng.permutation(6)[:4]] = 0.0
    x[1:, 0] = -0.0
    dout = _away_from_zero(ctx, (4, 6))
    _o, relu_cache = layers.relu_forward(x.copy())
    _o, leaky_cache = layers.leaky_relu_forward(x.copy(), 0.3)
    return {
        "relu_dx": layers.relu_backward(dout.copy(), relu_cache),
        "leaky_relu_dx": layers.leaky_relu_backward(dout.copy(), leaky_cache),
    }


@contextmanager
def _numpy_warnings() -> Iterator[list]:
    """Record NumPy's overflow, divide-by-zero and invalid-value warnings in the block (the
    handout's stability cases forbid them); underflow to 0 is a right answer, not a warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
            yield caught


def sigmoid_stability(ctx) -> dict:
    layers = ctx.module("layers")
    x = np.array([[-1000.0, -745.0, -50.0, -1.0, 0.0], [1.0, 50.0, 745.0, 1000.0, -30.0]])
    x = x * (1.0 + 0.01 * ctx.rng.random(x.shape))
    dout = ctx.rng.standard_normal(x.shape)
    with _numpy_warnings() as caught:
        out, cache = layers.sigmoid_forward(x.copy())
        dx = layers.sigmoid_backward(dout.copy(), cache)
    return {"out": out, "dx": dx, "no_warnings": not caught}


# ---------------------------------------------------------------- losses


def softmax_cross_entropy(ctx) -> dict:
    layers = ctx.module("layers")
    logits = 2.0 * ctx.rng.standard_normal((9, 6))
    y = ctx.rng.integers(0, 6, size=9)
    loss, dlogits = layers.softmax_cross_entropy(logits.copy(), y.copy())
    return {"loss": np.asarray(loss), "dlogits": dlogits}


def softmax_ce_stability(ctx) -> dict:
    layers = ctx.module("layers")
    logits = ctx.rng.standard_normal((4, 3))
    logits[0] = [1000.0, 0.0, -1000.0]
    logits[1] = [-1000.0, 999.0, 1000.0]
    logits[2] += 800.0  # a large common offset: softmax must not care
    y = np.array([1, 0, 2, int(ctx.rng.integers(0, 3))])
    with _numpy_warnings() as caught:
        loss, dlogits = layers.softmax_cross_entropy(logits.copy(), y.copy())
    return {"loss": np.asarray(loss), "dlogits": dlogits, "no_warnings": not caught}


def binary_cross_entropy(ctx) -> dict:
    layers = ctx.module("layers")
    p = ctx.rng.uniform(0.02, 0.98, size=(6, 4))
    y = (ctx.rng.random((6, 4)) < 0.5).astype(np.float64)
    y[1] = [0.0, 1.0, 0.0, 1.0]  # both hard targets on every draw
    y[0] = ctx.rng.uniform(0.05, 0.95, size=4)  # soft targets are allowed too
    loss, dp = layers.binary_cross_entropy(p.copy(), y.copy())
    return {"loss": np.asarray(loss), "dp": dp}


def bce_clamp(ctx) -> dict:
    layers = ctx.module("layers")
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    p = np.concatenate([p, ctx.rng.uniform(0.1, 0.9, size=3)])
    y = np.concatenate([y, ctx.rng.uniform(0.0, 1.0, size=3)])
    loss, dp = layers.binary_cross_entropy(p.copy(), y.copy())
    return {"loss": np.asarray(loss), "dp_finite": bool(np.all(np.isfinite(dp)))}


def bce_with_logits(ctx) -> dict:
    layers = ctx.module("layers")
    z = 3.0 * ctx.rng.standard_normal((5, 4))
    z[0] = [1000.0, -1000.0, 60.0, -60.0]  # sigmoid saturates: a naive log(sigmoid) breaks
    y = (ctx.rng.random((5, 4)) < 0.5).astype(np.float64)
    y[0] = [0.0, 1.0, 1.0, 0.0]
    y[1] = ctx.rng.uniform(0.05, 0.95, size=4)  # soft targets, as for BCE
    with _numpy_warnings() as caught:
        loss, dz = layers.bce_with_logits(z.copy(), y.copy())
    return {"loss": np.asarray(loss), "dz": dz, "no_warnings": not caught}


def mse_loss(ctx) -> dict:
    layers = ctx.module("layers")
    pred, target = _normal(ctx, 7, 3), _normal(ctx, 7, 3)
    loss, dpred = layers.mse_loss(pred.copy(), target.copy())
    return {"loss": np.asarray(loss), "dpred": dpred}


# ---------------------------------------------------------------- networks


def mlp_init(ctx) -> dict:
    """The initialisation the handout fixes, drawn from a seeded generator (exact values), and
    MLP(dims) without a generator (He statistics, zero biases)."""
    mlp = ctx.module("mlp")
    # Five sizes, all different: a fan-out scale or a transposed draw cannot coincide.
    dims = [int(d) for d in ctx.rng.choice(np.arange(3, 14), size=5, replace=False)]
    seed = int(ctx.rng.integers(2**32))
    net = mlp.MLP(dims, "relu", rng=np.random.default_rng(seed))
    out = {}
    for i in range(1, len(dims)):
        out[f"W{i}"] = np.asarray(net.params[f"W{i}"])
        out[f"b{i}"] = np.asarray(net.params[f"b{i}"])
    out["default_rng_ok"] = _looks_like_he(mlp.MLP(HE_DIMS, "relu"), HE_DIMS)
    return out


def _looks_like_he(net, dims: list[int]) -> bool:
    """Shapes right, biases zero, every W centred with std within 10% of sqrt(2 / fan_in)
    (W2 has 2,000 entries: its sample std is within 1.6% of the true one at one sigma)."""
    for i in range(1, len(dims)):
        W, b = np.asarray(net.params[f"W{i}"]), np.asarray(net.params[f"b{i}"])
        if W.shape != (dims[i], dims[i - 1]) or b.shape != (dims[i],) or np.any(b != 0):
            return False
        scale = np.sqrt(2.0 / dims[i - 1])
        if abs(W.std() / scale - 1.0) > 0.1 or abs(W.mean()) > 0.1 * scale:
            return False
    return True


def two_layer_net(ctx) -> dict:
    mlp = ctx.module("mlp")
    dims = [9, 11, 4]
    params = _mlp_params(ctx, dims)
    x, dout = ctx.rng.uniform(-1.0, 1.0, size=(6, 9)), _normal(ctx, 6, 4)
    # By construction, on every draw: hidden unit 0 is off and unit 1 on for every row, and
    # score 0 is negative for every row (an activation on the output layer shows).
    reach = _pin_units(params["W1"], params["b1"], np.ones(9))
    _pin_units(params["W2"], params["b2"], reach)
    net = mlp.MLP(dims, "relu", rng=np.random.default_rng(0))
    _set_params(net, params)
    out = net.forward(x.copy())
    dx = net.backward(dout.copy())
    return {"out": out, "dx": dx, **_grads(net, 2)}


def mlp_second_pass(ctx) -> dict:
    mlp = ctx.module("mlp")
    dims = [5, 8, 3]
    params = _mlp_params(ctx, dims)
    x1, dout1 = _normal(ctx, 7, 5), _normal(ctx, 7, 3)
    x2, dout2 = _normal(ctx, 4, 5), _normal(ctx, 4, 3)
    net = mlp.MLP(dims, "relu", rng=np.random.default_rng(0))
    _set_params(net, params)
    net.forward(x1.copy())
    net.backward(dout1.copy())
    # The second pair must depend on x2 and dout2 only: no stale caches, no accumulation.
    out = net.forward(x2.copy())
    dx = net.backward(dout2.copy())
    return {"out": out, "dx": dx, **_grads(net, 2)}


def deep_mlp_mixed(ctx) -> dict:
    mlp = ctx.module("mlp")
    dims = [6, 8, 7, 5, 3]
    params = _mlp_params(ctx, dims)
    x, dout = _normal(ctx, 5, 6), _normal(ctx, 5, 3)
    # |tanh| < 1: unit 0 of the leaky ReLU layer is negative on every row (its slope shows),
    # unit 1 positive.
    _pin_units(params["W2"], params["b2"], np.ones(8))
    activations = ["tanh", "leaky_relu", "sigmoid"]
    net = mlp.MLP(dims, activations, negative_slope=DEEP_SLOPE, rng=np.random.default_rng(0))
    _set_params(net, params)
    out = net.forward(x.copy())
    dx = net.backward(dout.copy())
    return {"out": out, "dx": dx, **_grads(net, 4)}


# ---------------------------------------------------------------- gradient check and training


def numerical_gradient(ctx) -> dict:
    mlp = ctx.module("mlp")
    shape = (3, 4, 2)
    c, d = ctx.rng.standard_normal(shape), ctx.rng.uniform(0.5, 2.0, size=shape)
    x = ctx.rng.standard_normal(shape)

    def f(z: np.ndarray) -> float:
        """A smooth scalar function with curvature, so a one-sided difference is visibly off."""
        return float(np.sum(c * np.sin(2.0 * z)) + np.sum(d * z**2) + np.sum(z) ** 2)

    x_given = x.copy()
    grad = mlp.numerical_gradient(f, x_given, h=NUMGRAD_H)
    return {"grad": grad, "x_unchanged": bool(np.array_equal(x_given, x))}


def train_history(ctx) -> dict:
    """train() on a small problem from fixed parameters with a seeded generator: the loss
    history and the trained parameters are fully determined by the handout's loop (a fresh
    rng.permutation every epoch, a smaller last batch, the plain mean of the batch losses)."""
    mlp = ctx.module("mlp")
    dims = [6, 10, 4]
    params = _mlp_params(ctx, dims)
    x = _normal(ctx, HISTORY_N, dims[0])
    y = ctx.rng.integers(0, dims[-1], size=HISTORY_N)
    seed = int(ctx.rng.integers(2**32))
    net = mlp.MLP(dims, "tanh", rng=np.random.default_rng(0))
    _set_params(net, params)
    history = mlp.train(
        net,
        x.copy(),
        y.copy(),
        epochs=HISTORY_EPOCHS,
        lr=HISTORY_LR,
        batch_size=HISTORY_BATCH,
        rng=np.random.default_rng(seed),
    )
    out = {"history": np.asarray(history, dtype=np.float64)}
    for name in params:
        out[name] = np.asarray(net.params[name])
    return out


def _learned(net, names: tuple[str, ...]) -> dict:
    """Copies of the trained parameters as float64 arrays (one that will not convert is left
    out, and the check outside says it is missing)."""
    params = getattr(net, "params", None)
    out = {}
    for name in names:
        try:
            out[name] = np.array(params[name], dtype=np.float64)
        except Exception:  # noqa: BLE001 - whatever the student left there
            continue
    return out


def train_digits(ctx) -> dict:
    """Train on this run's training split; return what was learned (judged outside on held-out
    digits that never enter the sandbox: hidden/rundata.py, hidden/checks.py)."""
    mlp = ctx.module("mlp")
    x_train = np.load(ctx.data("run/train_x.npy")).astype(np.float64) / 16.0
    y_train = np.load(ctx.data("run/train_y.npy")).astype(np.int64)
    net = mlp.MLP([64, 64, 10], "relu", rng=ctx.rng)
    mlp.train(
        net,
        x_train.copy(),
        y_train.copy(),
        epochs=TRAIN_EPOCHS,
        lr=TRAIN_LR,
        batch_size=TRAIN_BATCH,
        rng=ctx.rng,
    )
    return _learned(net, ("W1", "b1", "W2", "b2"))


# ---------------------------------------------------------------- contracts


def _float32_calls(ctx, layers) -> list:
    """(function, args) pairs on float32 inputs; backward calls take the matching forward cache."""
    f32 = np.float32
    x, W, b = (ctx.rng.standard_normal(s).astype(f32) for s in [(4, 6), (3, 6), (3,)])
    d3, d6 = (ctx.rng.standard_normal(s).astype(f32) for s in [(4, 3), (4, 6)])
    p = ctx.rng.uniform(0.05, 0.95, size=(4, 6)).astype(f32)
    t = (ctx.rng.random((4, 6)) < 0.5).astype(f32)
    y = ctx.rng.integers(0, 3, size=4)
    pairs = [
        (layers.linear_forward, layers.linear_backward, (x, W, b), d3),
        (layers.sigmoid_forward, layers.sigmoid_backward, (x,), d6),
        (layers.tanh_forward, layers.tanh_backward, (x,), d6),
        (layers.relu_forward, layers.relu_backward, (x,), d6),
        (layers.leaky_relu_forward, layers.leaky_relu_backward, (x, 0.05), d6),
    ]
    losses = [
        (layers.softmax_cross_entropy, (d3, y)),
        (layers.binary_cross_entropy, (p, t)),
        (layers.bce_with_logits, (x, t)),
        (layers.mse_loss, (x, d6)),
    ]
    return pairs, losses


def _arrays(value) -> list[np.ndarray]:
    """The NumPy arrays in a return value (a tuple, or one array)."""
    items = value if isinstance(value, tuple) else (value,)
    return [v for v in items if isinstance(v, np.ndarray)]


def contracts(ctx) -> dict:
    layers = ctx.module("layers")
    pairs, losses = _float32_calls(ctx, layers)
    dtype_ok, unchanged = True, True
    for forward, backward, args, dout in pairs:
        given, dgiven = [a.copy() if isinstance(a, np.ndarray) else a for a in args], dout.copy()
        out, cache = forward(*given)
        dx = backward(dgiven, cache)
        results = _arrays(out) + _arrays(dx)
        dtype_ok &= bool(results) and all(r.dtype == np.float32 for r in results)
        unchanged &= all(
            np.array_equal(g, a)
            for g, a in zip(given, args, strict=True)
            if isinstance(a, np.ndarray)
        )
        unchanged &= bool(np.array_equal(dgiven, dout))
    for loss_fn, args in losses:
        given = [a.copy() for a in args]
        _loss, grad = loss_fn(*given)
        dtype_ok &= isinstance(grad, np.ndarray) and grad.dtype == np.float32
        unchanged &= all(np.array_equal(g, a) for g, a in zip(given, args, strict=True))
    return {"dtype_preserved": bool(dtype_ok), "inputs_unchanged": bool(unchanged)}
