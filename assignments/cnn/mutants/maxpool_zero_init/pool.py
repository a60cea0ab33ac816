"""Max and average pooling in NumPy, with the conventions of torch.nn.functional.

Mutant maxpool_zero_init: the running maximum starts at 0, so a window of negative values
pools to 0.

Windows are kernel_size x kernel_size, moved by `stride` (default: kernel_size), over the
input padded by `padding` on every side; a partial last window is dropped (floor).
Max pooling pads with -inf and sends each window's gradient to its first maximum in
row-major order; average pooling pads with zeros.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _geometry(x: np.ndarray, kernel_size: int, stride: int | None, padding: int) -> tuple:
    """Checked (stride, Ho, Wo) for pooling x (N, C, H, W) like torch (padding <= k // 2)."""
    stride = kernel_size if stride is None else stride
    if kernel_size < 1 or stride < 1 or not 0 <= padding <= kernel_size // 2:
        raise ValueError("need kernel_size >= 1, stride >= 1 and 0 <= padding <= kernel_size // 2")
    h, w = x.shape[2:]
    ho = (h + 2 * padding - kernel_size) // stride + 1
    wo = (w + 2 * padding - kernel_size) // stride + 1
    if ho < 1 or wo < 1:
        raise ValueError("the pooling window is larger than the padded input")
    return stride, ho, wo


def _windows(xp: np.ndarray, k: int, stride: int, ho: int, wo: int) -> np.ndarray:
    """Read-only view (N, C, Ho, Wo, k, k) of the pooling windows of a padded input."""
    view = sliding_window_view(xp, (k, k), axis=(2, 3))
    return view[:, :, ::stride, ::stride][:, :, :ho, :wo]


def _pad(x: np.ndarray, padding: int, value: float) -> np.ndarray:
    """Pad the two spatial axes of an (N, C, H, W) array with `value` on every side."""
    pads = ((0, 0), (0, 0), (padding, padding), (padding, padding))
    return np.pad(x, pads, constant_values=value)


def _scatter(grads: np.ndarray, shape: tuple, k: int, stride: int, padding: int) -> np.ndarray:
    """Add per-offset window gradients (N, C, Ho, Wo, k, k) back onto the input grid."""
    n, c, h, w = shape
    ho, wo = grads.shape[2:4]
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=grads.dtype)
    for p in range(k):
        for q in range(k):
            # += (not =): overlapping windows (stride < k) share input positions.
            rows, cols = slice(p, p + stride * ho, stride), slice(q, q + stride * wo, stride)
            dxp[:, :, rows, cols] += grads[..., p, q]
    return np.ascontiguousarray(dxp[:, :, padding : padding + h, padding : padding + w])


def maxpool2d_forward(
    x: np.ndarray, kernel_size: int, stride: int | None = None, padding: int = 0
) -> tuple[np.ndarray, tuple]:
    """Max over each window of x (N, C, H, W); return (out (N, C, Ho, Wo), cache)."""
    stride, ho, wo = _geometry(x, kernel_size, stride, padding)
    n, c = x.shape[:2]
    flat = _windows(_pad(x, padding, -np.inf), kernel_size, stride, ho, wo)
    flat = flat.reshape(n, c, ho, wo, kernel_size * kernel_size)
    out = np.zeros((n, c, ho, wo))  # BUG: the running max starts at 0, not at -inf
    arg = np.zeros((n, c, ho, wo), dtype=np.int64)
    for offset in range(kernel_size * kernel_size):
        better = flat[..., offset] > out
        out = np.where(better, flat[..., offset], out)
        arg = np.where(better, offset, arg)
    return out, (x.shape, arg, kernel_size, stride, padding)


def maxpool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Route dL/dout (N, C, Ho, Wo) to each window's (first) maximum; return dx."""
    shape, arg, k, stride, padding = cache
    onehot = arg[..., None] == np.arange(k * k)
    grads = np.where(onehot, dout[..., None], 0.0).reshape(*dout.shape, k, k)
    return _scatter(grads, shape, k, stride, padding)


def _divisor(shape: tuple, k: int, stride: int, padding: int, include_pad: bool) -> np.ndarray:
    """Per-window divisor (Ho, Wo): k*k, or the count of real (unpadded) input positions."""
    ones = np.ones((1, 1, *shape[2:]))
    _, ho, wo = _geometry(ones, k, stride, padding)
    if include_pad:
        return np.full((ho, wo), float(k * k))
    return _windows(_pad(ones, padding, 0.0), k, stride, ho, wo).sum(axis=(-2, -1))[0, 0]


def avgpool2d_forward(
    x: np.ndarray,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    count_include_pad: bool = True,
) -> tuple[np.ndarray, tuple]:
    """Mean over each window of x (N, C, H, W), zero padding; return (out, cache)."""
    stride, ho, wo = _geometry(x, kernel_size, stride, padding)
    sums = _windows(_pad(x, padding, 0.0), kernel_size, stride, ho, wo).sum(axis=(-2, -1))
    div = _divisor(x.shape, kernel_size, stride, padding, count_include_pad)
    return sums / div, (x.shape, div, kernel_size, stride, padding)


def avgpool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Spread dL/dout (N, C, Ho, Wo) evenly over each window (1 / divisor each); return dx."""
    shape, div, k, stride, padding = cache
    share = dout / div
    grads = np.broadcast_to(share[..., None, None], (*share.shape, k, k))
    return _scatter(grads, shape, k, stride, padding)
