"""2-D convolution layer in NumPy, with the conventions of torch.nn.functional.conv2d.

Your task: implement the three functions below (see README.md for every convention).
NumPy only: torch, scipy, tensorflow and jax are not allowed in this file. Compute in
float64 (never convert to float32) and do not modify the arrays you are given.

The layer computes a cross-correlation (the kernel is NOT flipped):
out[n, f, i, j] = b[f] + sum_{c, p, q} xp[n, c, i*S + p, j*S + q] * w[f, c, p, q],
where xp is x zero-padded by P on each side of both spatial axes.
"""

from __future__ import annotations

import numpy as np


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output length along one axis: floor((size - kernel + 2 * padding) / stride) + 1.

    Raise ValueError (raise, not assert) if the kernel is longer than the padded input;
    a kernel exactly as long as the padded input gives 1.
    Examples: (7, 3, stride=2) -> 3; (8, 3, stride=2, padding=1) -> 4; (8, 3, stride=2) -> 3.
    """
    # TODO: one line of integer arithmetic (mind the rounding), plus the ValueError.
    raise NotImplementedError("conv_output_size")


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, tuple]:
    """Convolve x (N, C, H, W) with w (F, C, KH, KW) and add b (F,); return (out, cache).

    out has shape (N, F, Ho, Wo) with Ho = conv_output_size(H, KH, stride, padding) and
    Wo = conv_output_size(W, KW, stride, padding). Do not modify x, w or b. `cache` is
    whatever conv2d_backward needs; keep it there, not in global variables.
    """
    # TODO: zero-pad x, then take a weighted sum over each window. A loop over the output
    # positions is fine to start with; vectorise later (see "Going faster" in README.md).
    raise NotImplementedError("conv2d_forward")


def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Given dL/dout (N, F, Ho, Wo) and the forward cache, return (dx, dw, db).

    dx has the shape of x (the padding is cropped off), dw the shape of w, db shape (F,).
    """
    # TODO: every window that produced out[n, f, i, j] receives dout[n, f, i, j] * w[f];
    # overlapping windows add up. dw and db sum over the batch and all output positions.
    raise NotImplementedError("conv2d_backward")
