"""Shared inputs for the fixed-value tests: a 3x4 parameter and gradients from linspace."""

import numpy as np


def run_linspace(optimizer_cls, steps: int, **kwargs):
    """Run `steps` updates on w = linspace(-0.4, 0.6) with grad_k = linspace(-0.6, 0.4) + 0.1 k."""
    w = np.linspace(-0.4, 0.6, 12).reshape(3, 4)
    opt = optimizer_cls([w], **kwargs)
    for k in range(steps):
        opt.step([np.linspace(-0.6, 0.4, 12).reshape(3, 4) + 0.1 * k])
    return w, opt.state[0]
