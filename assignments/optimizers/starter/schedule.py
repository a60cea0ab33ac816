"""Learning-rate schedules that set optimizer.lr once per epoch (see README.md, "schedules").

Usage: build the optimizer, then the schedule; call opt.step(...) for every batch and
sched.step() once per epoch, after that epoch's optimizer steps.
"""

from __future__ import annotations


class StepLR:
    """Rate at epoch e: initial_lr * gamma ** (e // step_size)."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1) -> None:
        """Remember optimizer and its current lr (the initial rate); epoch 0 is in force."""
        raise NotImplementedError("StepLR.__init__")

    def step(self) -> None:
        """Advance one epoch and write the new rate into optimizer.lr."""
        raise NotImplementedError("StepLR.step")

    def get_last_lr(self) -> float:
        """The rate in force now (equal to optimizer.lr)."""
        raise NotImplementedError("StepLR.get_last_lr")


class CosineAnnealingLR:
    """Rate at epoch e: eta_min + (initial_lr - eta_min) * (1 + cos(pi * e / T_max)) / 2."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0) -> None:
        """Remember optimizer and its current lr (the initial rate); epoch 0 is in force."""
        raise NotImplementedError("CosineAnnealingLR.__init__")

    def step(self) -> None:
        """Advance one epoch and write the new rate into optimizer.lr."""
        raise NotImplementedError("CosineAnnealingLR.step")

    def get_last_lr(self) -> float:
        """The rate in force now (equal to optimizer.lr)."""
        raise NotImplementedError("CosineAnnealingLR.get_last_lr")
