"""Hidden cases for the cnn assignment: each builds seeded inputs, calls the submission and
returns its outputs. Scoring happens outside the sandbox (see assignments/README.md).

Every bug the suite looks for must show on EVERY draw, so inputs are random but built so the
bug cannot hide (STAFF.md maps each handout rule to its case and mutants):
- max-pooling inputs hold an all-negative image (padding and a running max that starts at 0
  would win there); maxpool_ties builds windows full of exact ties;
- average-pooling inputs with padding hold exact zeros (a divisor that counts non-zero
  entries is wrong there);
- the float64 cases add a large offset (1e4) that float32 cannot carry to 1e-6;
- otherwise values are continuous, so ReLU inputs in cnn_chain are never exactly zero.
Every case hands copies to the submission, except inputs_unchanged, which checks that the
arrays it passes are left as they were.
"""

from __future__ import annotations

import itertools

import numpy as np

# Fixed (size, kernel, stride, padding) rows for conv_output_size, incl. the handout's
# examples, K = H, stride > kernel and sizes where the last window does not fit (floor).
SIZE_TABLE = [
    (7, 3, 2, 0),
    (8, 3, 2, 1),
    (5, 5, 1, 0),
    (9, 2, 3, 0),
    (8, 3, 2, 0),
    (28, 5, 1, 2),
    (32, 4, 2, 1),
    (11, 4, 3, 2),
    (10, 1, 4, 0),
]
# Rows conv_output_size must refuse (kernel longer than the padded input) and rows right at
# the limit (kernel == padded input: one window) it must accept.
SIZE_INVALID = [(3, 6, 1, 1), (4, 5, 2, 0), (2, 7, 1, 2), (1, 2, 1, 0)]
SIZE_AT_LIMIT = [(3, 5, 2, 1), (4, 8, 3, 2), (1, 1, 1, 0)]
# (kernel_size, stride, padding) that pooling must refuse (padding > kernel_size // 2, incl.
# padding <= kernel_size) and the largest paddings it must accept.
POOL_INVALID = [(2, None, 2), (3, 2, 2), (4, 1, 3), (5, 2, 3), (3, None, 3)]
POOL_AT_LIMIT = [(2, None, 1), (3, 2, 1), (4, 2, 2), (5, 1, 2)]
# What a call did: returned, raised ValueError (or a subclass), raised anything else.
RETURNED, VALUE_ERROR, OTHER_ERROR = 0, 1, 2

# A common offset that float64 carries with ~1e-12 absolute error and float32 with ~5e-4:
# outputs where it cancels (zero-sum kernels, zero-mean upstream gradients) expose float32.
OFFSET = 1e4
# Every 2x2 0/1 mask with at least two ones: where the ones sit, a window's maximum is tied.
TIE_MASKS = np.array(
    [m for m in itertools.product((0.0, 1.0), repeat=4) if sum(m) >= 2], dtype=np.float64
).reshape(-1, 2, 2)

# The LeNetSmall parameter names and shapes the handout pins.
LENET_SHAPES = {
    "conv1.weight": (6, 1, 3, 3),
    "conv1.bias": (6,),
    "conv2.weight": (16, 6, 3, 3),
    "conv2.bias": (16,),
    "fc1.weight": (32, 64),
    "fc1.bias": (32,),
    "fc2.weight": (10, 32),
    "fc2.bias": (10,),
}


def _conv_inputs(rng: np.random.Generator, x_shape: tuple, w_shape: tuple) -> tuple:
    """Random x, w and b (one bias per filter) of the given shapes."""
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    return x, w, b


def _conv_grads(conv, rng: np.random.Generator, x_shape, w_shape, stride, padding) -> tuple:
    """Run conv2d forward, then backward with a random upstream gradient; (dx, dw, db)."""
    x, w, b = _conv_inputs(rng, x_shape, w_shape)
    out, cache = conv.conv2d_forward(x.copy(), w.copy(), b.copy(), stride, padding)
    dout = rng.standard_normal(np.shape(out))
    return conv.conv2d_backward(dout, cache)


def _negative_first(x: np.ndarray) -> np.ndarray:
    """x with its first image made all negative: there, no window's maximum is >= 0."""
    x[0] = -np.abs(x[0]) - 0.01
    return x


def _maxpool_input(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    return _negative_first(rng.standard_normal(shape))


def _avgpool_input(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Random values with an exact zero every other row and column (as after a ReLU)."""
    x = rng.standard_normal(shape)
    x[:, :, ::2, ::2] = 0.0
    return x


def _pool_pair(forward, backward, x: np.ndarray, rng: np.random.Generator, **kw) -> tuple:
    """Run a pooling layer forward and backward (random upstream gradient); (out, dx)."""
    out, cache = forward(x.copy(), **kw)
    dout = rng.standard_normal(np.shape(out))
    return out, backward(dout, cache)


def _outcome(fn, *args, **kw) -> int:
    """RETURNED, VALUE_ERROR or OTHER_ERROR (an assert or a crash is not the ValueError asked)."""
    try:
        fn(*args, **kw)
    except ValueError:
        return VALUE_ERROR
    except Exception:
        return OTHER_ERROR
    return RETURNED


def _is_float64(*arrays) -> np.ndarray:
    return np.array([np.asarray(a).dtype == np.float64 for a in arrays], dtype=np.int64)


# ------------------------------------------------------------------------------- conv.py


def output_size(ctx) -> dict:
    """conv_output_size on fixed and random (size, kernel, stride, padding) rows."""
    conv = ctx.module("conv")
    rows = list(SIZE_TABLE)
    for _ in range(12):
        size, padding, stride = (int(v) for v in ctx.rng.integers([3, 0, 1], [40, 4, 5]))
        kernel = int(ctx.rng.integers(1, size + 2 * padding + 1))
        rows.append((size, kernel, stride, padding))
    return {"sizes": np.array([conv.conv_output_size(*row) for row in rows], dtype=np.int64)}


def output_size_errors(ctx) -> dict:
    """conv_output_size raises ValueError exactly when the kernel is longer than the padded
    input; a kernel as long as the padded input is accepted."""
    conv = ctx.module("conv")
    invalid, at_limit = list(SIZE_INVALID), list(SIZE_AT_LIMIT)
    for _ in range(4):
        size, padding, stride = (int(v) for v in ctx.rng.integers([1, 0, 1], [12, 3, 4]))
        invalid.append((size, size + 2 * padding + int(ctx.rng.integers(1, 4)), stride, padding))
        at_limit.append((size, size + 2 * padding, stride, padding))
    return {
        "invalid": np.array([_outcome(conv.conv_output_size, *r) for r in invalid]),
        "at_limit": np.array([_outcome(conv.conv_output_size, *r) for r in at_limit]),
    }


def conv_forward_stride1(ctx) -> dict:
    """conv2d_forward, stride 1 and no padding, non-square input and a 3x2 kernel."""
    conv = ctx.module("conv")
    x, w, b = _conv_inputs(ctx.rng, (2, 3, 7, 9), (4, 3, 3, 2))
    out, _ = conv.conv2d_forward(x.copy(), w.copy(), b.copy(), 1, 0)
    return {"out": out}


def conv_forward_general(ctx) -> dict:
    """conv2d_forward with strides 1-3 and padding 0-2, incl. a last window that does not fit."""
    conv = ctx.module("conv")
    configs = {
        "out_s2_p1": ((2, 3, 7, 9), (4, 3, 3, 2), 2, 1),
        "out_s3_p2": ((3, 2, 11, 8), (5, 2, 2, 4), 3, 2),
        "out_s2_p0": ((1, 4, 8, 10), (2, 4, 3, 3), 2, 0),
        "out_s1_p2": ((2, 1, 5, 6), (3, 1, 5, 3), 1, 2),
    }
    outputs = {}
    for name, (x_shape, w_shape, stride, padding) in configs.items():
        x, w, b = _conv_inputs(ctx.rng, x_shape, w_shape)
        outputs[name], _ = conv.conv2d_forward(x.copy(), w.copy(), b.copy(), stride, padding)
    return outputs


def conv_backward_stride1(ctx) -> dict:
    """conv2d_backward (dx, dw, db), stride 1 and no padding, batch of 3, 2x3 kernel."""
    conv = ctx.module("conv")
    dx, dw, db = _conv_grads(conv, ctx.rng, (3, 2, 6, 8), (4, 2, 2, 3), 1, 0)
    return {"dx": dx, "dw": dw, "db": db}


def conv_backward_general(ctx) -> dict:
    """conv2d_backward with stride 2 / padding 1, stride 3 / padding 2, stride 2 / padding 0."""
    conv = ctx.module("conv")
    configs = {
        "s2_p1": ((2, 3, 7, 9), (4, 3, 3, 2), 2, 1),
        "s3_p2": ((2, 2, 10, 7), (3, 2, 4, 3), 3, 2),
        "s2_p0": ((3, 2, 9, 8), (2, 2, 3, 3), 2, 0),
    }
    outputs = {}
    for tag, (x_shape, w_shape, stride, padding) in configs.items():
        dx, dw, db = _conv_grads(conv, ctx.rng, x_shape, w_shape, stride, padding)
        outputs.update({f"dx_{tag}": dx, f"dw_{tag}": dw, f"db_{tag}": db})
    return outputs


def _zero_sum(w: np.ndarray) -> np.ndarray:
    """Each (filter, channel) kernel shifted to sum to zero, like an edge detector."""
    return w - w.mean(axis=(2, 3), keepdims=True)


def conv_float64(ctx) -> dict:
    """conv2d in float64: outputs where a 1e4 offset cancels (float32 is off by ~1e-3 there),
    and the dtype of every output."""
    conv, rng = ctx.module("conv"), ctx.rng
    outputs = {}
    # Forward: zero-sum kernels on images with a large offset; the offset cancels inside.
    for name, (x_shape, w_shape, stride, padding) in {
        "out_s1_p0": ((2, 3, 7, 9), (4, 3, 3, 2), 1, 0),
        "out_s2_p1": ((2, 2, 8, 7), (3, 2, 3, 3), 2, 1),
    }.items():
        x, w, b = _conv_inputs(rng, x_shape, w_shape)
        out, _ = conv.conv2d_forward(OFFSET + x, _zero_sum(w), b.copy(), stride, padding)
        outputs[name] = out
    # dw: offset images and an upstream gradient with zero mean per filter.
    x, w, b = _conv_inputs(rng, (2, 3, 7, 8), (4, 3, 3, 2))
    out, cache = conv.conv2d_forward(OFFSET + x, w.copy(), b.copy(), 1, 0)
    dout = rng.standard_normal(np.shape(out))
    _, outputs["dw_offset_x"], _ = conv.conv2d_backward(
        dout - dout.mean(axis=(0, 2, 3), keepdims=True), cache
    )
    # dx: zero-sum kernels and an upstream gradient with a large offset.
    x, w, b = _conv_inputs(rng, (2, 3, 8, 7), (4, 3, 2, 3))
    out, cache = conv.conv2d_forward(x.copy(), _zero_sum(w), b.copy(), 1, 0)
    dx, dw, db = conv.conv2d_backward(OFFSET + rng.standard_normal(np.shape(out)), cache)
    outputs["dx_offset_dout"] = dx
    outputs["float64"] = _is_float64(out, dx, dw, db)  # out, dx, dw, db
    return outputs


# ------------------------------------------------------------------------------- pool.py


def maxpool_forward(ctx) -> dict:
    """maxpool2d_forward: default stride, overlapping 3x3/2 and stride 1, non-square inputs."""
    pool = ctx.module("pool")
    configs = {
        "out_k2": ((2, 3, 8, 10), {"kernel_size": 2}),
        "out_k3_s2": ((2, 2, 9, 7), {"kernel_size": 3, "stride": 2}),
        "out_k2_s1": ((2, 3, 5, 6), {"kernel_size": 2, "stride": 1}),
    }
    outputs = {}
    for name, (shape, kw) in configs.items():
        outputs[name], _ = pool.maxpool2d_forward(_maxpool_input(ctx.rng, shape), **kw)
    return outputs


def maxpool_backward(ctx) -> dict:
    """maxpool2d_backward for non-overlapping windows: 2x2 (odd sizes) and stride > kernel."""
    pool = ctx.module("pool")
    fwd, bwd, rng = pool.maxpool2d_forward, pool.maxpool2d_backward, ctx.rng
    _, dx_k2 = _pool_pair(fwd, bwd, _maxpool_input(rng, (2, 3, 7, 9)), rng, kernel_size=2)
    _, dx_k2_s3 = _pool_pair(
        fwd, bwd, _maxpool_input(rng, (2, 2, 8, 11)), rng, kernel_size=2, stride=3
    )
    return {"dx_k2": dx_k2, "dx_k2_s3": dx_k2_s3}


def maxpool_backward_overlap(ctx) -> dict:
    """maxpool2d_backward for overlapping windows (3x3 stride 2, 3x3 stride 1): grads add up."""
    pool = ctx.module("pool")
    fwd, bwd, rng = pool.maxpool2d_forward, pool.maxpool2d_backward, ctx.rng
    _, dx_k3_s2 = _pool_pair(
        fwd, bwd, _maxpool_input(rng, (2, 3, 9, 11)), rng, kernel_size=3, stride=2
    )
    _, dx_k3_s1 = _pool_pair(
        fwd, bwd, _maxpool_input(rng, (2, 2, 6, 7)), rng, kernel_size=3, stride=1
    )
    return {"dx_k3_s2": dx_k3_s2, "dx_k3_s1": dx_k3_s1}


def maxpool_padding(ctx) -> dict:
    """maxpool2d forward and backward with padding (padded positions act as -inf); the first
    image is all negative, so padding that counted as 0 would win its border windows."""
    pool = ctx.module("pool")
    fwd, bwd, rng = pool.maxpool2d_forward, pool.maxpool2d_backward, ctx.rng
    out_a, dx_a = _pool_pair(
        fwd, bwd, _maxpool_input(rng, (2, 3, 8, 9)), rng, kernel_size=3, stride=2, padding=1
    )
    out_b, dx_b = _pool_pair(
        fwd, bwd, _maxpool_input(rng, (2, 2, 7, 6)), rng, kernel_size=2, padding=1
    )
    return {"out_k3_s2_p1": out_a, "dx_k3_s2_p1": dx_a, "out_k2_p1": out_b, "dx_k2_p1": dx_b}


def _tied_windows(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """(N, C, H, W) input (H, W even) whose 2x2 windows all have a tied maximum: every mask of
    TIE_MASKS appears (at random places), the masked entries share the window's maximum."""
    n, c, h, w = shape
    count = n * c * (h // 2) * (w // 2)
    which = rng.permutation(np.resize(np.arange(len(TIE_MASKS)), count))
    masks = TIE_MASKS[which].reshape(n, c, h // 2, w // 2, 2, 2)
    top = rng.standard_normal((n, c, h // 2, w // 2, 1, 1))
    windows = np.where(masks == 1.0, top, top - rng.uniform(0.1, 1.0, masks.shape))
    return windows.transpose(0, 1, 2, 4, 3, 5).reshape(shape)


def maxpool_ties(ctx) -> dict:
    """maxpool2d_backward when windows have tied maxima: only the first maximum in row-major
    order gets the gradient (PyTorch's rule), and overlapping windows still add up."""
    pool = ctx.module("pool")
    fwd, bwd, rng = pool.maxpool2d_forward, pool.maxpool2d_backward, ctx.rng
    # Non-overlapping 2x2 windows, every tie pattern present (all four equal, a row, a
    # column, a diagonal, an anti-diagonal, three of four).
    _, dx_k2 = _pool_pair(fwd, bwd, _tied_windows(rng, (2, 3, 8, 10)), rng, kernel_size=2)
    # Overlapping windows over few distinct values, the first channel constant.
    x = rng.integers(0, 2, size=(2, 2, 9, 11)).astype(np.float64)
    x[:, 0] = 0.5
    _, dx_k3_s2 = _pool_pair(fwd, bwd, x, rng, kernel_size=3, stride=2)
    x = rng.integers(0, 3, size=(1, 2, 6, 7)).astype(np.float64)
    _, dx_k2_s1 = _pool_pair(fwd, bwd, x, rng, kernel_size=2, stride=1)
    # Padding: a constant negative channel (padding never wins, nor ties).
    x = rng.integers(-2, 0, size=(1, 2, 7, 8)).astype(np.float64)
    x[:, 0] = -1.5
    _, dx_k3_s2_p1 = _pool_pair(fwd, bwd, x, rng, kernel_size=3, stride=2, padding=1)
    return {"dx_k2": dx_k2, "dx_k3_s2": dx_k3_s2, "dx_k2_s1": dx_k2_s1, "dx_k3_s2_p1": dx_k3_s2_p1}


def pool_padding_errors(ctx) -> dict:
    """Max and average pooling raise ValueError when padding > kernel_size // 2 and accept
    padding == kernel_size // 2."""
    pool = ctx.module("pool")
    x = ctx.rng.standard_normal((1, 2, 6, 7))
    outputs = {}
    for tag, forward in (("max", pool.maxpool2d_forward), ("avg", pool.avgpool2d_forward)):
        for kind, rows in (("invalid", POOL_INVALID), ("at_limit", POOL_AT_LIMIT)):
            outputs[f"{tag}_{kind}"] = np.array(
                [_outcome(forward, x.copy(), k, stride, padding) for k, stride, padding in rows]
            )
    return outputs


def avgpool_forward(ctx) -> dict:
    """avgpool2d_forward: default stride, overlapping 3x3/2 and stride > kernel, no padding."""
    pool = ctx.module("pool")
    configs = {
        "out_k2": ((2, 3, 8, 10), {"kernel_size": 2}),
        "out_k3_s2": ((2, 2, 9, 7), {"kernel_size": 3, "stride": 2}),
        "out_k2_s3": ((1, 3, 8, 11), {"kernel_size": 2, "stride": 3}),
    }
    outputs = {}
    for name, (shape, kw) in configs.items():
        outputs[name], _ = pool.avgpool2d_forward(ctx.rng.standard_normal(shape), **kw)
    return outputs


def avgpool_backward(ctx) -> dict:
    """avgpool2d_backward: 2x2 on odd sizes, overlapping 3x3 stride 2, stride > kernel."""
    pool = ctx.module("pool")
    fwd, bwd, rng = pool.avgpool2d_forward, pool.avgpool2d_backward, ctx.rng
    _, dx_k2 = _pool_pair(fwd, bwd, rng.standard_normal((2, 3, 7, 9)), rng, kernel_size=2)
    _, dx_k3_s2 = _pool_pair(
        fwd, bwd, rng.standard_normal((2, 2, 9, 8)), rng, kernel_size=3, stride=2
    )
    _, dx_k2_s3 = _pool_pair(
        fwd, bwd, rng.standard_normal((1, 2, 8, 11)), rng, kernel_size=2, stride=3
    )
    return {"dx_k2": dx_k2, "dx_k3_s2": dx_k3_s2, "dx_k2_s3": dx_k2_s3}


def avgpool_padding(ctx) -> dict:
    """avgpool2d forward and backward with padding, count_include_pad True and False; inputs
    hold exact zeros (the divisor counts positions, not non-zero values)."""
    pool = ctx.module("pool")
    fwd, bwd = pool.avgpool2d_forward, pool.avgpool2d_backward
    configs = {
        "k3_s2_p1_incl": ((2, 3, 8, 9), 3, 2, 1, True),
        "k3_s1_p1_excl": ((2, 2, 6, 7), 3, 1, 1, False),
        "k2_s2_p1_excl": ((1, 3, 7, 6), 2, 2, 1, False),
    }
    outputs = {}
    for tag, (shape, k, stride, padding, include) in configs.items():
        out, dx = _pool_pair(
            fwd,
            bwd,
            _avgpool_input(ctx.rng, shape),
            ctx.rng,
            kernel_size=k,
            stride=stride,
            padding=padding,
            count_include_pad=include,
        )
        outputs.update({f"out_{tag}": out, f"dx_{tag}": dx})
    return outputs


def pool_float64(ctx) -> dict:
    """Pooling in float64: outputs minus a 1e4 offset (float32 is off by ~5e-4 there), and the
    dtype of every output."""
    pool, rng = ctx.module("pool"), ctx.rng
    x = OFFSET + rng.standard_normal((2, 3, 8, 9))
    max_out, max_cache = pool.maxpool2d_forward(x.copy(), 3, 2, 1)
    avg_out, avg_cache = pool.avgpool2d_forward(x.copy(), 3, 2, 1, False)
    avg_k2, _ = pool.avgpool2d_forward(x.copy(), 2)
    max_dx = pool.maxpool2d_backward(rng.standard_normal(np.shape(max_out)), max_cache)
    avg_dx = pool.avgpool2d_backward(rng.standard_normal(np.shape(avg_out)), avg_cache)
    outputs = {
        "max_k3_s2_p1": np.asarray(max_out, dtype=np.float64) - OFFSET,
        "avg_k3_s2_p1_excl": np.asarray(avg_out, dtype=np.float64) - OFFSET,
        "avg_k2": np.asarray(avg_k2, dtype=np.float64) - OFFSET,
        "float64": _is_float64(max_out, max_dx, avg_out, avg_dx),
    }
    # Backward (linear in dout): the gradient of OFFSET + small minus that of OFFSET alone is
    # the gradient of the small part; float32 loses it. Overlapping windows, fresh caches.
    for tag, forward, backward, extra in (
        ("max", pool.maxpool2d_forward, pool.maxpool2d_backward, ()),
        ("avg", pool.avgpool2d_forward, pool.avgpool2d_backward, (False,)),
    ):
        small = rng.standard_normal(np.shape(max_out))
        grads = []
        for dout in (OFFSET + small, np.full(small.shape, OFFSET)):
            _, cache = forward(x.copy(), 3, 2, 1, *extra)
            grads.append(np.asarray(backward(dout, cache), dtype=np.float64))
        outputs[f"{tag}_dx_offset_dout"] = grads[0] - grads[1]
    return outputs


# -------------------------------------------------------------------------------- both


def inputs_unchanged(ctx) -> dict:
    """No function modifies the arrays it is given (x, w, b, dout), checked after the backward
    pass too. 1 per array left unchanged: conv x, w, b, dout; maxpool x, dout; avgpool x, dout."""
    conv, pool, rng = ctx.module("conv"), ctx.module("pool"), ctx.rng
    x, w, b = _conv_inputs(rng, (2, 3, 7, 6), (4, 3, 3, 2))
    given = [x, w, b]
    out, cache = conv.conv2d_forward(x, w, b, 2, 1)
    given.append(rng.standard_normal(np.shape(out)))
    kept = [a.copy() for a in given]
    conv.conv2d_backward(given[-1], cache)
    for forward, backward, extra in (
        (pool.maxpool2d_forward, pool.maxpool2d_backward, {}),
        (pool.avgpool2d_forward, pool.avgpool2d_backward, {"count_include_pad": False}),
    ):
        x = rng.standard_normal((2, 2, 7, 8))
        kept.append(x.copy())
        out, cache = forward(x, 3, 2, 1, **extra)
        dout = rng.standard_normal(np.shape(out))
        kept.append(dout.copy())
        backward(dout, cache)
        given += [x, dout]
    same = [np.array_equal(a, k) for a, k in zip(given, kept, strict=True)]
    return {"unchanged": np.array(same, dtype=np.int64)}


def cnn_chain(ctx) -> dict:
    """A tiny NumPy CNN built from the submission's layers: outputs and every gradient.

    conv (3x2, pad 1) -> ReLU -> maxpool 3/2 -> conv (2x3, stride 2, pad 1)
    -> avgpool (2, stride 1, pad 1, count_include_pad=False). Catches layers that keep state
    between calls instead of in their cache.
    """
    conv, pool = ctx.module("conv"), ctx.module("pool")
    x, w1, b1 = _conv_inputs(ctx.rng, (2, 3, 10, 13), (4, 3, 3, 2))
    w2, b2 = ctx.rng.standard_normal((5, 4, 2, 3)), ctx.rng.standard_normal(5)
    a1, c1 = conv.conv2d_forward(x.copy(), w1.copy(), b1.copy(), 1, 1)
    r1 = np.maximum(a1, 0.0)
    p1, c2 = pool.maxpool2d_forward(r1.copy(), 3, 2, 0)
    a2, c3 = conv.conv2d_forward(p1.copy(), w2.copy(), b2.copy(), 2, 1)
    out, c4 = pool.avgpool2d_forward(a2.copy(), 2, 1, 1, False)
    dout = ctx.rng.standard_normal(np.shape(out))
    da2 = pool.avgpool2d_backward(dout, c4)
    dp1, dw2, db2 = conv.conv2d_backward(da2, c3)
    dr1 = pool.maxpool2d_backward(dp1, c2)
    dx, dw1, db1 = conv.conv2d_backward(np.where(a1 > 0, dr1, 0.0), c1)
    return {"out": out, "dx": dx, "dw1": dw1, "db1": db1, "dw2": dw2, "db2": db2}


# ------------------------------------------------------------------------------ lenet.py


def lenet_forward(ctx) -> dict:
    """LeNetSmall with given float64 weights (names from the handout): logits for 5 images."""
    import torch

    lenet = ctx.module("lenet")
    torch.manual_seed(0)
    model = lenet.LeNetSmall().double()
    state = {k: torch.from_numpy(0.4 * ctx.rng.standard_normal(s)) for k, s in LENET_SHAPES.items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(ctx.rng.random((5, 1, 8, 8))))
    return {"logits": logits.detach().cpu().numpy()}


def _weights(model) -> dict[str, np.ndarray]:
    state = model.state_dict()
    return {k: state[k].detach().to(device="cpu").double().numpy() for k in LENET_SHAPES}


def _synthetic_digits(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Noisy 8x8 float32 patterns of ten classes, sorted by label (as the grader's data)."""
    patterns = rng.random((10, 8, 8)) > 0.6
    y = np.repeat(np.arange(10), count // 10)
    x = patterns[y] + 0.2 * rng.standard_normal((y.size, 8, 8))
    return np.clip(x, 0.0, 1.0).astype(np.float32)[:, None], y.astype(np.int64)


def train_reproducible(ctx) -> dict:
    """train_lenet (CPU, small synthetic set) seeds everything from `seed` and only from it:
    [same seed -> identical weights, other seed -> other weights], 1 when true. The global
    random states are set differently before each call, so code that does not seed from
    `seed` gives different weights."""
    import random

    import torch

    lenet = ctx.module("lenet")
    x, y = _synthetic_digits(ctx.rng, 60)
    seed = int(ctx.rng.integers(2**31 - 2))
    runs = []
    for global_seed, run_seed in ((1, seed), (2, seed), (1, seed + 1)):
        torch.manual_seed(global_seed)
        np.random.seed(global_seed)
        random.seed(global_seed)
        model = lenet.train_lenet(x.copy(), y.copy(), device="cpu", seed=run_seed)
        runs.append(_weights(model))
    same = all(np.array_equal(runs[0][k], runs[1][k]) for k in LENET_SHAPES)
    other = any(not np.array_equal(runs[0][k], runs[2][k]) for k in LENET_SHAPES)
    return {"reproducible": np.array([same, other], dtype=np.int64)}


def train_digits(ctx) -> dict:
    """train_lenet on this run's training split (hidden/rundata.py: its own split, label
    permutation and orientation); returns the learned weights under their state_dict names.
    The held-out images and labels never enter the sandbox: hidden/checks.py rebuilds the
    network from these arrays on the worker and measures its accuracy there."""
    import torch

    lenet = ctx.module("lenet")
    seed = int(ctx.rng.integers(2**31 - 1))
    torch.manual_seed(seed)
    x_train = np.load(ctx.data("run/digits_train_x.npy"), allow_pickle=False)
    y_train = np.load(ctx.data("run/digits_train_y.npy"), allow_pickle=False)
    model = lenet.train_lenet(x_train.copy(), y_train.copy(), device=ctx.device, seed=seed)
    state = model.state_dict()
    # Only the handout's parameters go out; a missing one is reported by the check.
    return {
        name: state[name].detach().to(device="cpu", dtype=torch.float64).numpy()
        for name in LENET_SHAPES
        if name in state
    }
