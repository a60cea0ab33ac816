"""2-D convolution layer in NumPy, with the conventions of torch.nn.functional.conv2d.

Mutant conv_float32_buffer: the forward output is stored in a float32 array (the values are
right to ~1e-7).

The layer computes a cross-correlation (the kernel is not flipped):
out[n, f, i, j] = b[f] + sum_{c, p, q} xp[n, c, i*S + p, j*S + q] * w[f, c, p, q],
where xp is x zero-padded by P on each side of both spatial axes.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output length along one axis: floor((size - kernel + 2 * padding) / stride) + 1."""
    if stride < 1 or padding < 0 or kernel < 1:
        raise ValueError("need kernel >= 1, stride >= 1 and padding >= 0")
    span = size + 2 * padding - kernel
    if span < 0:
        raise ValueError(f"kernel {kernel} is larger than the padded input {size + 2 * padding}")
    return span // stride + 1  # integer division floors: a partial last window is dropped


def _pad(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero-pad the two spatial axes of an (N, C, H, W) array by `padding` on every side."""
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def _windows(xp: np.ndarray, kh: int, kw: int, stride: int, ho: int, wo: int) -> np.ndarray:
    """Read-only view (N, C, Ho, Wo, KH, KW) of the kernel-sized windows the layer visits."""
    view = sliding_window_view(xp, (kh, kw), axis=(2, 3))
    return view[:, :, ::stride, ::stride][:, :, :ho, :wo]


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, tuple]:
    """Convolve x (N, C, H, W) with w (F, C, KH, KW) and add b (F,); return (out, cache)."""
    _, _, h, wd = x.shape
    _, _, kh, kw = w.shape
    ho = conv_output_size(h, kh, stride, padding)
    wo = conv_output_size(wd, kw, stride, padding)
    cols = _windows(_pad(x, padding), kh, kw, stride, ho, wo)
    # Contract channels and kernel offsets: (N, Ho, Wo, F), then channels-first.
    out = np.tensordot(cols, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
    out = out + b[None, :, None, None]
    # BUG: a float32 output buffer (np.zeros(..., dtype=np.float32)): the handout asks float64
    buffer = np.zeros(out.shape, dtype=np.float32)
    buffer[...] = out
    return buffer, (x, w, stride, padding)


def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Given dL/dout (N, F, Ho, Wo) and the forward cache, return (dx, dw, db)."""
    x, w, stride, padding = cache
    _, _, h, wd = x.shape
    _, _, kh, kw = w.shape
    _, _, ho, wo = dout.shape
    xp = _pad(x, padding)
    cols = _windows(xp, kh, kw, stride, ho, wo)
    dw = np.tensordot(dout, cols, axes=([0, 2, 3], [0, 2, 3]))  # (F, C, KH, KW)
    db = dout.sum(axis=(0, 2, 3))
    dcols = np.tensordot(dout, w, axes=([1], [0])).transpose(0, 3, 1, 2, 4, 5)  # like cols
    dxp = np.zeros_like(xp, dtype=np.result_type(dout, w))
    for p in range(kh):
        for q in range(kw):
            # Each kernel offset touches a strided grid of xp; overlapping windows add up.
            rows, cols = slice(p, p + stride * ho, stride), slice(q, q + stride * wo, stride)
            dxp[:, :, rows, cols] += dcols[..., p, q]
    dx = dxp[:, :, padding : padding + h, padding : padding + wd]  # crop the padding off again
    return np.ascontiguousarray(dx), dw, db
