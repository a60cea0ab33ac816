"""Max and average pooling in NumPy, written with loops over windows.

Mutant pool_ceil_mode: the output size rounds UP (PyTorch's ceil_mode=True), so a last
window that hangs over the edge is kept, pooled over the inputs it still covers.
"""

from __future__ import annotations

import numpy as np


def _check(h, w, kernel_size, stride, padding):
    if stride is None:
        stride = kernel_size
    if padding < 0 or padding > kernel_size // 2:
        raise ValueError("padding must be between 0 and kernel_size // 2")
    # BUG: rounds up: a partial last window is kept (the handout's formula floors)
    ho = -(-(h + 2 * padding - kernel_size) // stride) + 1
    wo = -(-(w + 2 * padding - kernel_size) // stride) + 1
    return stride, ho, wo


def maxpool2d_forward(x, kernel_size, stride=None, padding=0):
    n, c, h, w = x.shape
    stride, ho, wo = _check(h, w, kernel_size, stride, padding)
    out = np.zeros((n, c, ho, wo))
    where = np.zeros((n, c, ho, wo, 2), dtype=int)  # the winner, in unpadded coordinates
    for i in range(n):
        for ch in range(c):
            for r in range(ho):
                for s in range(wo):
                    best, at = -np.inf, None
                    for p in range(kernel_size):
                        for q in range(kernel_size):
                            y, z = r * stride + p - padding, s * stride + q - padding
                            if 0 <= y < h and 0 <= z < w and x[i, ch, y, z] > best:
                                best, at = x[i, ch, y, z], (y, z)
                    out[i, ch, r, s] = best
                    where[i, ch, r, s] = at
    return out, (x.shape, where)


def maxpool2d_backward(dout, cache):
    shape, where = cache
    dx = np.zeros(shape)
    n, c, ho, wo = dout.shape
    for i in range(n):
        for ch in range(c):
            for r in range(ho):
                for s in range(wo):
                    y, z = where[i, ch, r, s]
                    dx[i, ch, y, z] += dout[i, ch, r, s]
    return dx


def _window_rows(r, stride, padding, kernel_size, size):
    """The real (unpadded) index range a window covers along one axis."""
    start = r * stride - padding
    return max(start, 0), min(start + kernel_size, size)


def avgpool2d_forward(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    n, c, h, w = x.shape
    stride, ho, wo = _check(h, w, kernel_size, stride, padding)
    out = np.zeros((n, c, ho, wo))
    divisors = np.zeros((ho, wo))
    for r in range(ho):
        y0, y1 = _window_rows(r, stride, padding, kernel_size, h)
        for s in range(wo):
            z0, z1 = _window_rows(s, stride, padding, kernel_size, w)
            div = kernel_size * kernel_size if count_include_pad else (y1 - y0) * (z1 - z0)
            divisors[r, s] = div
            out[:, :, r, s] = x[:, :, y0:y1, z0:z1].sum(axis=(2, 3)) / div
    return out, (x.shape, kernel_size, stride, padding, divisors)


def avgpool2d_backward(dout, cache):
    shape, kernel_size, stride, padding, divisors = cache
    n, c, h, w = shape
    dx = np.zeros(shape)
    for r in range(dout.shape[2]):
        y0, y1 = _window_rows(r, stride, padding, kernel_size, h)
        for s in range(dout.shape[3]):
            z0, z1 = _window_rows(s, stride, padding, kernel_size, w)
            dx[:, :, y0:y1, z0:z1] += (dout[:, :, r, s] / divisors[r, s])[:, :, None, None]
    return dx
