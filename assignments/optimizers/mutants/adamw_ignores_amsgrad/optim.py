"""Optimizers in NumPy, following torch.optim's update rules (reference solution)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Optimizer:
    """Holds the parameters (updated in place), the learning rate and one state dict per param."""

    def __init__(self, params: Sequence[np.ndarray], lr: float) -> None:
        self.params = list(params)
        self.lr = float(lr)
        # One dict per parameter: buffers must never be shared between parameters.
        self.state: list[dict] = [{} for _ in self.params]

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Apply one update to every parameter, given its gradient (same order as params)."""
        if len(grads) != len(self.params):
            raise ValueError(f"expected {len(self.params)} gradients, got {len(grads)}")
        for p, g, state in zip(self.params, grads, self.state, strict=True):
            self._update(p, np.asarray(g, dtype=p.dtype), state)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov and L2 decay."""

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = momentum
        self.dampening = dampening
        self.weight_decay = weight_decay
        self.nesterov = nesterov

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        if self.momentum != 0:
            if "momentum_buffer" not in state:
                buf = g.copy()  # first step: the buffer is the gradient itself, no dampening
            else:
                buf = self.momentum * state["momentum_buffer"] + (1 - self.dampening) * g
            # Store the new buffer (0-d arrays: arithmetic returns a new, immutable scalar).
            state["momentum_buffer"] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g


class Adagrad(Optimizer):
    """Adagrad: per-coordinate steps scaled by the root of the summed squared gradients."""

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(params, lr)
        self.lr_decay = lr_decay
        self.weight_decay = weight_decay
        self.eps = eps
        for p, state in zip(self.params, self.state, strict=True):
            state["step"] = 0
            state["sum"] = np.full_like(p, initial_accumulator_value)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        state["step"] += 1
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        state["sum"] = state["sum"] + g * g
        # eps is added outside the square root, as in PyTorch.
        p -= clr * g / (np.sqrt(state["sum"]) + self.eps)


class RMSprop(Optimizer):
    """RMSprop with optional centering (variance estimate) and momentum."""

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
        super().__init__(params, lr)
        self.alpha = alpha
        self.eps = eps
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.centered = centered

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
            if self.momentum > 0:
                state["momentum_buffer"] = np.zeros_like(p)
            if self.centered:
                state["grad_avg"] = np.zeros_like(p)
        state["step"] += 1
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        square_avg = self.alpha * state["square_avg"] + (1 - self.alpha) * g * g
        state["square_avg"] = square_avg
        if self.centered:
            grad_avg = self.alpha * state["grad_avg"] + (1 - self.alpha) * g
            state["grad_avg"] = grad_avg
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + self.eps
        else:
            avg = np.sqrt(square_avg) + self.eps
        if self.momentum > 0:
            buf = self.momentum * state["momentum_buffer"] + g / avg
            state["momentum_buffer"] = buf
            p -= self.lr * buf
        else:
            p -= self.lr * g / avg


class Adam(Optimizer):
    """Adam with bias correction, L2 weight decay (added to the gradient) and AMSGrad."""

    decoupled = False  # AdamW overrides: decay the weights directly instead of the gradient

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.amsgrad = amsgrad

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = self.betas
        if self.weight_decay != 0:
            if self.decoupled:
                p *= 1 - self.lr * self.weight_decay
            else:
                g = g + self.weight_decay * p
        m = beta1 * state["exp_avg"] + (1 - beta1) * g
        v = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        state["exp_avg"], state["exp_avg_sq"] = m, v
        if self.amsgrad:
            # The running max is taken over the raw second moment, then bias-corrected.
            v = state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], v)
        denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + self.eps
        p -= self.lr / (1 - beta1**t) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: p <- p * (1 - lr * weight_decay) before the Adam step."""

    decoupled = True

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)  # BUG: amsgrad is dropped
