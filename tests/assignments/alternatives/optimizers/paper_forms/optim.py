"""A correct submission in the papers' algebraic forms, equal to PyTorch's up to rounding:
Adam with the step size lr * sqrt(1 - beta2^t) / (1 - beta1^t) and eps * sqrt(1 - beta2^t)
(Kingma & Ba, section 2), moving averages written as a += (1 - beta) * (x - a), dampening as
g - tau * g, and per-parameter state built by a shared helper."""

from __future__ import annotations

import math

import numpy as np


class _Base:
    def __init__(self, params, lr, **hyper):
        self.params = [p for p in params]
        self.lr = lr
        self.__dict__.update(hyper)
        self.state = [{} for _ in self.params]

    def step(self, grads):
        for index, p in enumerate(self.params):
            g = np.asarray(grads[index])
            self.update(p, g, self.state[index])


def _ema(avg, x, beta):
    """beta * avg + (1 - beta) * x, as avg + (1 - beta) * (x - avg)."""
    return avg + (1.0 - beta) * (x - avg)


class SGD(_Base):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        super().__init__(
            params,
            lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
        )

    def update(self, p, g, state):
        if self.weight_decay != 0:
            g = self.weight_decay * p + g
        if self.momentum != 0:
            old = state.get("momentum_buffer")
            buf = np.copy(g) if old is None else self.momentum * old + (g - self.dampening * g)
            state["momentum_buffer"] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        p[...] = p - self.lr * g


class Adagrad(_Base):
    def __init__(
        self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10
    ):
        super().__init__(params, lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps)
        for p, state in zip(self.params, self.state, strict=True):
            state["step"] = 0
            state["sum"] = np.zeros_like(p) + initial_accumulator_value

    def update(self, p, g, state):
        state["step"] = state["step"] + 1
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        state["sum"] = state["sum"] + np.square(g)
        decay = 1.0 + (state["step"] - 1) * self.lr_decay
        p -= (self.lr / decay) * g / (np.sqrt(state["sum"]) + self.eps)


class RMSprop(_Base):
    def __init__(
        self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False
    ):
        super().__init__(
            params,
            lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
        )

    def update(self, p, g, state):
        state["step"] = state.get("step", 0) + 1
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        v = state["square_avg"] = _ema(state.get("square_avg", np.zeros_like(p)), g * g, self.alpha)
        if self.centered:
            gbar = state["grad_avg"] = _ema(state.get("grad_avg", np.zeros_like(p)), g, self.alpha)
            v = v - gbar * gbar
        denom = np.sqrt(v) + self.eps
        if self.momentum > 0:
            buf = self.momentum * state.get("momentum_buffer", np.zeros_like(p)) + g / denom
            state["momentum_buffer"] = buf
            p -= self.lr * buf
        else:
            p -= self.lr * (g / denom)


class Adam(_Base):
    def __init__(
        self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False
    ):
        super().__init__(
            params, lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad
        )

    decoupled = False

    def update(self, p, g, state):
        beta1, beta2 = self.betas
        if self.weight_decay != 0 and self.decoupled:
            p *= 1 - self.lr * self.weight_decay
        elif self.weight_decay != 0:
            g = g + self.weight_decay * p
        t = state["step"] = state.get("step", 0) + 1
        m = state["exp_avg"] = _ema(state.get("exp_avg", np.zeros_like(p)), g, beta1)
        v = state["exp_avg_sq"] = _ema(state.get("exp_avg_sq", np.zeros_like(p)), g * g, beta2)
        if self.amsgrad:
            v = state["max_exp_avg_sq"] = np.maximum(state.get("max_exp_avg_sq", v), v)
        root = math.sqrt(1 - beta2**t)
        step_size = self.lr * root / (1 - beta1**t)
        p -= step_size * m / (np.sqrt(v) + self.eps * root)


class AdamW(Adam):
    decoupled = True

    def __init__(
        self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False
    ):
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad
        )
