"""A correct submission written differently from the solution: no base class, one loop per
optimizer, buffers created lazily as float64 arrays and updated in place, Adam written with
explicit bias-corrected moments m_hat and v_hat, AdamW as its own class."""

import numpy as np


def _zeros(p):
    return np.zeros(np.shape(p), dtype=np.float64)


class SGD:
    def __init__(
        self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False
    ):
        self.params = params
        self.lr = lr
        self.momentum, self.dampening = momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self.state = [dict() for _ in range(len(params))]

    def step(self, grads):
        for i in range(len(self.params)):
            p, g = self.params[i], grads[i]
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.momentum:
                st = self.state[i]
                if "momentum_buffer" in st:
                    buf = st["momentum_buffer"]
                    buf *= self.momentum
                    buf += (1.0 - self.dampening) * g
                else:
                    buf = st["momentum_buffer"] = np.array(g, dtype=np.float64)  # a copy
                g = g + self.momentum * buf if self.nesterov else buf
            p -= self.lr * g


class Adagrad:
    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0.0,
        weight_decay=0.0,
        initial_accumulator_value=0.0,
        eps=1e-10,
    ):
        self.params = params
        self.lr, self.lr_decay, self.weight_decay, self.eps = lr, lr_decay, weight_decay, eps
        self.state = [
            {"step": 0, "sum": np.full(np.shape(p), initial_accumulator_value, dtype=np.float64)}
            for p in params
        ]

    def step(self, grads):
        for i in range(len(self.params)):
            p, g, st = self.params[i], grads[i], self.state[i]
            st["step"] += 1
            if self.weight_decay:
                g = g + self.weight_decay * p
            st["sum"] += g**2
            step_size = self.lr / (1.0 + self.lr_decay * (st["step"] - 1))
            p -= step_size * (g / (np.sqrt(st["sum"]) + self.eps))


class RMSprop:
    def __init__(
        self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False
    ):
        self.params = params
        self.lr, self.alpha, self.eps = lr, alpha, eps
        self.weight_decay, self.momentum, self.centered = weight_decay, momentum, centered
        self.state = [{} for _ in params]

    def step(self, grads):
        a = self.alpha
        for i in range(len(self.params)):
            p, g, st = self.params[i], grads[i], self.state[i]
            if not st:
                st["step"] = 0
                st["square_avg"] = _zeros(p)
                if self.centered:
                    st["grad_avg"] = _zeros(p)
                if self.momentum > 0:
                    st["momentum_buffer"] = _zeros(p)
            st["step"] += 1
            if self.weight_decay:
                g = g + self.weight_decay * p
            v = st["square_avg"]
            v *= a
            v += (1 - a) * g**2
            if self.centered:
                gbar = st["grad_avg"]
                gbar *= a
                gbar += (1 - a) * g
                denom = np.sqrt(v - gbar**2) + self.eps
            else:
                denom = np.sqrt(v) + self.eps
            if self.momentum > 0:
                b = st["momentum_buffer"]
                b *= self.momentum
                b += g / denom
                p -= self.lr * b
            else:
                p -= self.lr * g / denom


def _adam_update(opt, p, g, st):
    b1, b2 = opt.betas
    if not st:
        st["step"] = 0
        st["exp_avg"], st["exp_avg_sq"] = _zeros(p), _zeros(p)
        if opt.amsgrad:
            st["max_exp_avg_sq"] = _zeros(p)
    st["step"] += 1
    t = st["step"]
    m, v = st["exp_avg"], st["exp_avg_sq"]
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * g * g
    if opt.amsgrad:
        vmax = st["max_exp_avg_sq"]
        np.maximum(vmax, v, out=vmax)
        v = vmax
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    p -= opt.lr * m_hat / (np.sqrt(v_hat) + opt.eps)


class Adam:
    def __init__(
        self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False
    ):
        self.params = params
        self.lr, self.betas, self.eps = lr, betas, eps
        self.weight_decay, self.amsgrad = weight_decay, amsgrad
        self.state = [{} for _ in params]

    def step(self, grads):
        for i in range(len(self.params)):
            p, g = self.params[i], grads[i]
            if self.weight_decay:
                g = g + self.weight_decay * p
            _adam_update(self, p, g, self.state[i])


class AdamW:
    def __init__(
        self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False
    ):
        self.params = params
        self.lr, self.betas, self.eps = lr, betas, eps
        self.weight_decay, self.amsgrad = weight_decay, amsgrad
        self.state = [{} for _ in params]

    def step(self, grads):
        for i in range(len(self.params)):
            p = self.params[i]
            p *= 1 - self.lr * self.weight_decay
            _adam_update(self, p, grads[i], self.state[i])
