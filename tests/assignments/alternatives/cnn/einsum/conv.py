"""Correct conv.py with np.einsum over sliding windows; dx as a full correlation of the
stride-dilated upstream gradient with the flipped kernel (the transposed convolution).

A staff fixture: a correct alternative the hidden cases must give full marks.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_output_size(size, kernel, stride=1, padding=0):
    span = size + 2 * padding - kernel
    if span < 0:
        raise ValueError(f"kernel {kernel} does not fit in {size} + 2 * {padding}")
    return span // stride + 1


def _windows(xp, kh, kw, stride, ho, wo):
    view = sliding_window_view(xp, (kh, kw), axis=(-2, -1))
    return view[:, :, : (ho - 1) * stride + 1 : stride, : (wo - 1) * stride + 1 : stride]


def conv2d_forward(x, w, b, stride=1, padding=0):
    ho = conv_output_size(x.shape[2], w.shape[2], stride, padding)
    wo = conv_output_size(x.shape[3], w.shape[3], stride, padding)
    xp = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    win = _windows(xp, w.shape[2], w.shape[3], stride, ho, wo)
    out = np.einsum("nchwij,fcij->nfhw", win, w) + b.reshape(1, -1, 1, 1)
    return out, {"x": x, "w": w, "stride": stride, "padding": padding}


def conv2d_backward(dout, cache):
    x, w, stride, padding = cache["x"], cache["w"], cache["stride"], cache["padding"]
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    _, _, ho, wo = dout.shape
    xp = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    db = np.einsum("nfhw->f", dout)
    dw = np.einsum("nfhw,nchwij->fcij", dout, _windows(xp, kh, kw, stride, ho, wo))
    # dx: put dout on a grid dilated by the stride, pad it by kernel - 1 and correlate it
    # with the kernel turned by 180 degrees.
    dilated = np.zeros((n, f, (ho - 1) * stride + 1, (wo - 1) * stride + 1))
    dilated[:, :, ::stride, ::stride] = dout
    full = np.pad(dilated, [(0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)])
    flipped = w[:, :, ::-1, ::-1]
    core = np.einsum("nfhwij,fcij->nchw", sliding_window_view(full, (kh, kw), axis=(2, 3)), flipped)
    dxp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    dxp[:, :, : core.shape[2], : core.shape[3]] = core  # rows past the last window get 0
    return dxp[:, :, padding : padding + h, padding : padding + wd], dw, db
