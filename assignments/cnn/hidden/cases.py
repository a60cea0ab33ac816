"""Hidden cases for the cnn assignment: each builds seeded inputs, calls the submission and
returns its outputs. Scoring happens outside the sandbox (see assignments/README.md).

Inputs are continuous random float64 values, so max-pooling windows have no ties and ReLU
inputs are never exactly zero. Every case hands copies to the submission.
"""

from __future__ import annotations

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


def _pool_pair(forward, backward, rng: np.random.Generator, x_shape: tuple, **kw) -> tuple:
    """Run a pooling layer forward and backward (random upstream gradient); (out, dx)."""
    x = rng.standard_normal(x_shape)
    out, cache = forward(x.copy(), **kw)
    dout = rng.standard_normal(np.shape(out))
    return out, backward(dout, cache)


def output_size(ctx) -> dict:
    """conv_output_size on fixed and random (size, kernel, stride, padding) rows."""
    conv = ctx.module("conv")
    rows = list(SIZE_TABLE)
    for _ in range(12):
        size, padding, stride = (int(v) for v in ctx.rng.integers([3, 0, 1], [40, 4, 5]))
        kernel = int(ctx.rng.integers(1, size + 2 * padding + 1))
        rows.append((size, kernel, stride, padding))
    return {"sizes": np.array([conv.conv_output_size(*row) for row in rows], dtype=np.int64)}


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


def maxpool_forward(ctx) -> dict:
    """maxpool2d_forward: default stride, overlapping 3x3/2 and stride 1, non-square inputs."""
    pool = ctx.module("pool")
    configs = {
        "out_k2": ((2, 3, 8, 10), {"kernel_size": 2}),
        "out_k3_s2": ((2, 2, 9, 7), {"kernel_size": 3, "stride": 2}),
        "out_k2_s1": ((1, 3, 5, 6), {"kernel_size": 2, "stride": 1}),
    }
    outputs = {}
    for name, (shape, kw) in configs.items():
        outputs[name], _ = pool.maxpool2d_forward(ctx.rng.standard_normal(shape), **kw)
    return outputs


def maxpool_backward(ctx) -> dict:
    """maxpool2d_backward for non-overlapping windows: 2x2 (odd sizes) and stride > kernel."""
    pool = ctx.module("pool")
    fwd, bwd = pool.maxpool2d_forward, pool.maxpool2d_backward
    _, dx_k2 = _pool_pair(fwd, bwd, ctx.rng, (2, 3, 7, 9), kernel_size=2)
    _, dx_k2_s3 = _pool_pair(fwd, bwd, ctx.rng, (2, 2, 8, 11), kernel_size=2, stride=3)
    return {"dx_k2": dx_k2, "dx_k2_s3": dx_k2_s3}


def maxpool_backward_overlap(ctx) -> dict:
    """maxpool2d_backward for overlapping windows (3x3 stride 2, 3x3 stride 1): grads add up."""
    pool = ctx.module("pool")
    fwd, bwd = pool.maxpool2d_forward, pool.maxpool2d_backward
    _, dx_k3_s2 = _pool_pair(fwd, bwd, ctx.rng, (2, 3, 9, 11), kernel_size=3, stride=2)
    _, dx_k3_s1 = _pool_pair(fwd, bwd, ctx.rng, (2, 2, 6, 7), kernel_size=3, stride=1)
    return {"dx_k3_s2": dx_k3_s2, "dx_k3_s1": dx_k3_s1}


def maxpool_padding(ctx) -> dict:
    """maxpool2d forward and backward with padding (padded positions act as -inf)."""
    pool = ctx.module("pool")
    fwd, bwd = pool.maxpool2d_forward, pool.maxpool2d_backward
    out_a, dx_a = _pool_pair(fwd, bwd, ctx.rng, (2, 3, 8, 9), kernel_size=3, stride=2, padding=1)
    out_b, dx_b = _pool_pair(fwd, bwd, ctx.rng, (2, 2, 7, 6), kernel_size=2, padding=1)
    return {"out_k3_s2_p1": out_a, "dx_k3_s2_p1": dx_a, "out_k2_p1": out_b, "dx_k2_p1": dx_b}


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
    fwd, bwd = pool.avgpool2d_forward, pool.avgpool2d_backward
    _, dx_k2 = _pool_pair(fwd, bwd, ctx.rng, (2, 3, 7, 9), kernel_size=2)
    _, dx_k3_s2 = _pool_pair(fwd, bwd, ctx.rng, (2, 2, 9, 8), kernel_size=3, stride=2)
    _, dx_k2_s3 = _pool_pair(fwd, bwd, ctx.rng, (1, 2, 8, 11), kernel_size=2, stride=3)
    return {"dx_k2": dx_k2, "dx_k3_s2": dx_k3_s2, "dx_k2_s3": dx_k2_s3}


def avgpool_padding(ctx) -> dict:
    """avgpool2d forward and backward with padding, count_include_pad True and False."""
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
            ctx.rng,
            shape,
            kernel_size=k,
            stride=stride,
            padding=padding,
            count_include_pad=include,
        )
        outputs.update({f"out_{tag}": out, f"dx_{tag}": dx})
    return outputs


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
