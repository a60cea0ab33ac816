"""Correct conv.py in the cs231n im2col style: index arrays, one matrix product, col2im with
np.add.at.

A staff fixture: a correct alternative the hidden cases must give full marks.
"""

from __future__ import annotations

import numpy as np


def conv_output_size(size, kernel, stride=1, padding=0):
    if size + 2 * padding < kernel:
        raise ValueError("the kernel does not fit in the padded input")
    return int(np.floor((size + 2 * padding - kernel) / stride)) + 1


def _indices(c, kh, kw, ho, wo, stride):
    """(channel, row, col) index arrays of shape (C*KH*KW, Ho*Wo) into the padded input."""
    i0 = np.tile(np.repeat(np.arange(kh), kw), c)
    i1 = stride * np.repeat(np.arange(ho), wo)
    j0 = np.tile(np.arange(kw), kh * c)
    j1 = stride * np.tile(np.arange(wo), ho)
    k = np.repeat(np.arange(c), kh * kw).reshape(-1, 1)
    return k, i0.reshape(-1, 1) + i1.reshape(1, -1), j0.reshape(-1, 1) + j1.reshape(1, -1)


def conv2d_forward(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho = conv_output_size(h, kh, stride, padding)
    wo = conv_output_size(wd, kw, stride, padding)
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="constant")
    k, i, j = _indices(c, kh, kw, ho, wo, stride)
    cols = xp[:, k, i, j]  # (N, C*KH*KW, Ho*Wo)
    out = w.reshape(f, -1) @ cols + b.reshape(-1, 1)  # (N, F, Ho*Wo)
    return out.reshape(n, f, ho, wo), (x.shape, cols, w, stride, padding)


def conv2d_backward(dout, cache):
    shape, cols, w, stride, padding = cache
    n, c, h, wd = shape
    f, _, kh, kw = w.shape
    ho, wo = dout.shape[2:]
    d = dout.reshape(n, f, ho * wo)
    db = d.sum(axis=(0, 2))
    dw = np.einsum("nfl,nkl->fk", d, cols).reshape(w.shape)
    dcols = w.reshape(f, -1).T @ d  # (N, C*KH*KW, Ho*Wo)
    dxp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    k, i, j = _indices(c, kh, kw, ho, wo, stride)
    np.add.at(dxp, (slice(None), k, i, j), dcols)
    if padding == 0:
        return dxp, dw, db
    return dxp[:, :, padding:-padding, padding:-padding], dw, db
