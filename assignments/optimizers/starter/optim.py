"""Optimizers in NumPy that follow torch.optim's update rules exactly.

Read README.md ("The optimizer contract" and "The update rules") before you start. In short:
- params is a list of float64 arrays (some are 0-d); step(grads) updates them IN PLACE;
- step must not modify the gradient arrays it receives;
- self.lr is read on every step (schedules change it);
- self.state[i] is the dict of params[i], with PyTorch's key names.
No torch, tensorflow, jax or optax: NumPy and the standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class SGD:
    """SGD with optional momentum, dampening, Nesterov momentum and L2 weight decay."""

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        """Keep the parameter arrays, set self.lr and self.state (one empty dict per param)."""
        # TODO: store params (the same array objects), the hyperparameters, self.lr, self.state.
        raise NotImplementedError("SGD.__init__")

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """One update of every parameter, in place; state key: "momentum_buffer" (if momentum)."""
        # TODO: for each (param, grad, state): weight decay, momentum (no dampening at t=1),
        #       Nesterov, then p -= lr * g.
        raise NotImplementedError("SGD.step")


class Adagrad:
    """Adagrad with lr_decay, initial_accumulator_value and L2 weight decay."""

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        """Keep the params; each state starts as {"step": 0, "sum": initial_accumulator_value}."""
        raise NotImplementedError("Adagrad.__init__")

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """One Adagrad update in place: decayed lr, accumulate g², eps outside the square root."""
        raise NotImplementedError("Adagrad.step")


class RMSprop:
    """RMSprop with optional centering, momentum and L2 weight decay."""

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        """Keep the params and hyperparameters; self.state holds one dict per param."""
        raise NotImplementedError("RMSprop.__init__")

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """One update in place; state "step", "square_avg", "grad_avg", "momentum_buffer"."""
        raise NotImplementedError("RMSprop.step")


class Adam:
    """Adam with bias correction, L2 weight decay (added to the gradient) and AMSGrad."""

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        """Keep the params and hyperparameters; self.state holds one dict per param."""
        raise NotImplementedError("Adam.__init__")

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """One Adam update in place; state: "step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"."""
        raise NotImplementedError("Adam.step")


class AdamW:
    """Adam with decoupled weight decay (p <- p * (1 - lr * weight_decay) first); default 0.01."""

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        """Keep the params and hyperparameters; self.state holds one dict per param."""
        # Hint: AdamW may subclass Adam and share most of its code.
        raise NotImplementedError("AdamW.__init__")

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Decay the params themselves, then the Adam update with no L2 term in the gradient."""
        raise NotImplementedError("AdamW.step")
