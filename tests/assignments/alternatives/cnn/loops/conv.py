"""Correct conv.py written with explicit loops over output positions (a first-attempt style).

A staff fixture: a correct alternative the hidden cases must give full marks.
"""

from __future__ import annotations

import numpy as np


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    if kernel > size + 2 * padding:
        raise ValueError("kernel longer than the padded input")
    return (size + 2 * padding - kernel) // stride + 1


def conv2d_forward(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho = conv_output_size(h, kh, stride, padding)
    wo = conv_output_size(wd, kw, stride, padding)
    xp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    xp[:, :, padding : padding + h, padding : padding + wd] = x
    out = np.zeros((n, f, ho, wo))
    for i in range(n):
        for k in range(f):
            for r in range(ho):
                for s in range(wo):
                    window = xp[i, :, r * stride : r * stride + kh, s * stride : s * stride + kw]
                    out[i, k, r, s] = np.sum(window * w[k]) + b[k]
    return out, (x, w, b, stride, padding)


def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    _, _, ho, wo = dout.shape
    xp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    xp[:, :, padding : padding + h, padding : padding + wd] = x
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for i in range(n):
        for k in range(f):
            for r in range(ho):
                for s in range(wo):
                    g = dout[i, k, r, s]
                    rows = slice(r * stride, r * stride + kh)
                    cols = slice(s * stride, s * stride + kw)
                    dw[k] += g * xp[i, :, rows, cols]
                    dxp[i, :, rows, cols] += g * w[k]
                    db[k] += g
    return dxp[:, :, padding : padding + h, padding : padding + wd], dw, db
