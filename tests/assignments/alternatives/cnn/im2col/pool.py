"""Correct pool.py in the im2col style: each channel's windows as columns, argmax per column,
np.add.at to scatter back.

A staff fixture: a correct alternative the hidden cases must give full marks.
"""

from __future__ import annotations

import numpy as np


def _geometry(shape, k, stride, padding):
    if stride is None:
        stride = k
    if padding > k // 2 or padding < 0:
        raise ValueError(f"padding {padding} is not in [0, {k // 2}]")
    ho = (shape[2] + 2 * padding - k) // stride + 1
    wo = (shape[3] + 2 * padding - k) // stride + 1
    return stride, ho, wo


def _indices(k, ho, wo, stride):
    """(row, col) index arrays (k*k, Ho*Wo): offset p*k+q of window (r, s), row-major."""
    rows = np.repeat(np.arange(k), k)[:, None] + stride * np.repeat(np.arange(ho), wo)[None, :]
    cols = np.tile(np.arange(k), k)[:, None] + stride * np.tile(np.arange(wo), ho)[None, :]
    return rows, cols


def _columns(x, k, stride, padding, ho, wo, fill):
    n, c, h, w = x.shape
    xp = np.full((n * c, h + 2 * padding, w + 2 * padding), fill)
    xp[:, padding : padding + h, padding : padding + w] = x.reshape(n * c, h, w)
    rows, cols = _indices(k, ho, wo, stride)
    return xp[:, rows, cols]  # (N*C, k*k, Ho*Wo)


def _col2im(dcols, shape, k, stride, padding, ho, wo):
    n, c, h, w = shape
    dxp = np.zeros((n * c, h + 2 * padding, w + 2 * padding))
    rows, cols = _indices(k, ho, wo, stride)
    np.add.at(dxp, (slice(None), rows, cols), dcols)
    return dxp[:, padding : padding + h, padding : padding + w].reshape(shape)


def maxpool2d_forward(x, kernel_size, stride=None, padding=0):
    stride, ho, wo = _geometry(x.shape, kernel_size, stride, padding)
    cols = _columns(x, kernel_size, stride, padding, ho, wo, -np.inf)
    arg = cols.argmax(axis=1)  # (N*C, Ho*Wo), first maximum
    out = np.take_along_axis(cols, arg[:, None, :], axis=1)[:, 0]
    n, c = x.shape[:2]
    return out.reshape(n, c, ho, wo), (x.shape, arg, kernel_size, stride, padding)


def maxpool2d_backward(dout, cache):
    shape, arg, k, stride, padding = cache
    n, c, ho, wo = dout.shape
    dcols = np.zeros((n * c, k * k, ho * wo))
    np.put_along_axis(dcols, arg[:, None, :], dout.reshape(n * c, 1, ho * wo), axis=1)
    return _col2im(dcols, shape, k, stride, padding, ho, wo)


def avgpool2d_forward(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    stride, ho, wo = _geometry(x.shape, kernel_size, stride, padding)
    cols = _columns(x, kernel_size, stride, padding, ho, wo, 0.0)
    if count_include_pad:
        div = np.full(ho * wo, float(kernel_size * kernel_size))
    else:
        one = np.ones((1, 1) + x.shape[2:])
        div = _columns(one, kernel_size, stride, padding, ho, wo, 0.0)[0].sum(axis=0)
    out = cols.sum(axis=1) / div
    n, c = x.shape[:2]
    return out.reshape(n, c, ho, wo), (x.shape, div, kernel_size, stride, padding)


def avgpool2d_backward(dout, cache):
    shape, div, k, stride, padding = cache
    n, c, ho, wo = dout.shape
    share = dout.reshape(n * c, 1, ho * wo) / div
    dcols = np.broadcast_to(share, (n * c, k * k, ho * wo))
    return _col2im(dcols, shape, k, stride, padding, ho, wo)
