"""Max and average pooling in NumPy, with the conventions of torch.nn.functional.

Your task: implement the four functions below (see README.md for every convention).
NumPy only: torch, scipy, tensorflow and jax are not allowed in this file. Compute in
float64 (never convert to float32) and do not modify the arrays you are given.

Windows are kernel_size x kernel_size, moved by `stride` (None means stride = kernel_size),
over the input padded by `padding` on every side (0 <= padding <= kernel_size // 2, else
raise ValueError); a partial last window is dropped:
Ho = floor((H + 2 * padding - kernel_size) / stride) + 1.
"""

from __future__ import annotations

import numpy as np


def maxpool2d_forward(
    x: np.ndarray, kernel_size: int, stride: int | None = None, padding: int = 0
) -> tuple[np.ndarray, tuple]:
    """Max over each window of x (N, C, H, W); return (out (N, C, Ho, Wo), cache).

    Padded positions count as -inf: they never win the max.
    """
    # TODO
    raise NotImplementedError("maxpool2d_forward")


def maxpool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Route dL/dout (N, C, Ho, Wo) to each window's maximum; return dx (shape of x).

    Ties: only the FIRST maximum of a window in row-major order gets the gradient (as in
    PyTorch). Overlapping windows that pick the same input add their gradients.
    """
    # TODO
    raise NotImplementedError("maxpool2d_backward")


def avgpool2d_forward(
    x: np.ndarray,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    count_include_pad: bool = True,
) -> tuple[np.ndarray, tuple]:
    """Mean over each window of x (N, C, H, W), zero padding; return (out, cache).

    The divisor is kernel_size**2 when count_include_pad is True, else the number of
    window positions that lie inside the unpadded input.
    """
    # TODO
    raise NotImplementedError("avgpool2d_forward")


def avgpool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Spread dL/dout (N, C, Ho, Wo) evenly over each window (dout / divisor per position).

    Returns dx with the shape of x; overlapping windows add up, padding is cropped off.
    """
    # TODO
    raise NotImplementedError("avgpool2d_backward")
