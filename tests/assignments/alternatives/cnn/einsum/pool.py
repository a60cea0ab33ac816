"""Correct pool.py with window views, np.einsum sums and np.add.at scatters.

A staff fixture: a correct alternative the hidden cases must give full marks.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _setup(x, k, stride, padding, fill):
    stride = k if stride is None else stride
    if not 0 <= padding <= k // 2:
        raise ValueError("padding must be in [0, kernel_size // 2]")
    xp = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)], constant_values=fill)
    ho = (xp.shape[2] - k) // stride + 1
    wo = (xp.shape[3] - k) // stride + 1
    win = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :ho, :wo]
    return stride, win


def _scatter_indices(shape, k, stride, padding, ho, wo):
    """Padded-grid row and column of every (window, offset): arrays (Ho, Wo, k, k)."""
    r = (np.arange(ho) * stride)[:, None, None, None] + np.arange(k)[None, None, :, None]
    s = (np.arange(wo) * stride)[None, :, None, None] + np.arange(k)[None, None, None, :]
    return np.broadcast_to(r, (ho, wo, k, k)), np.broadcast_to(s, (ho, wo, k, k))


def maxpool2d_forward(x, kernel_size, stride=None, padding=0):
    stride, win = _setup(x, kernel_size, stride, padding, -np.inf)
    n, c, ho, wo = win.shape[:4]
    flat = win.reshape(n, c, ho, wo, -1)
    best = flat.argmax(axis=-1)
    out = flat.max(axis=-1)
    return out, (x.shape, best, kernel_size, stride, padding)


def maxpool2d_backward(dout, cache):
    shape, best, k, stride, padding = cache
    n, c, h, w = shape
    ho, wo = dout.shape[2:]
    rows = (np.arange(ho) * stride)[None, None, :, None] + best // k
    cols = (np.arange(wo) * stride)[None, None, None, :] + best % k
    nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    np.add.at(dxp, (nn[:, :, None, None], cc[:, :, None, None], rows, cols), dout)
    return dxp[:, :, padding : padding + h, padding : padding + w]


def avgpool2d_forward(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    stride, win = _setup(x, kernel_size, stride, padding, 0.0)
    sums = np.einsum("nchwij->nchw", win)
    if count_include_pad:
        div = np.full(sums.shape[2:], float(kernel_size**2))
    else:
        _, ones = _setup(np.ones((1, 1) + x.shape[2:]), kernel_size, stride, padding, 0.0)
        div = np.einsum("nchwij->hw", ones)
    return sums / div, (x.shape, div, kernel_size, stride, padding)


def avgpool2d_backward(dout, cache):
    shape, div, k, stride, padding = cache
    n, c, h, w = shape
    ho, wo = dout.shape[2:]
    rows, cols = _scatter_indices(shape, k, stride, padding, ho, wo)
    share = np.broadcast_to((dout / div)[..., None, None], (n, c, ho, wo, k, k))
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    np.add.at(dxp, (slice(None), slice(None), rows, cols), share)
    return dxp[:, :, padding : padding + h, padding : padding + w]
