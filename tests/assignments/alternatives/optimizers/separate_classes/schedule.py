"""Schedules without a base class; each computes its closed form from a saved base lr."""

import math


class StepLR:
    def __init__(self, optimizer, step_size, gamma=0.1):
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        self.base = optimizer.lr
        self.epoch = 0

    def step(self):
        self.epoch += 1
        self.optimizer.lr = self.base * self.gamma ** math.floor(self.epoch / self.step_size)

    def get_last_lr(self):
        return float(self.optimizer.lr)


class CosineAnnealingLR:
    def __init__(self, optimizer, T_max, eta_min=0.0):
        self.optimizer, self.T_max, self.eta_min = optimizer, T_max, eta_min
        self.base = optimizer.lr
        self.epoch = 0

    def step(self):
        self.epoch += 1
        span = self.base - self.eta_min
        self.optimizer.lr = (
            self.eta_min + span * (1 + math.cos(self.epoch * math.pi / self.T_max)) / 2
        )

    def get_last_lr(self):
        return float(self.optimizer.lr)
