"""PyTorch's recursive (chainable) forms: each step updates the current lr from the last one."""

import math


class StepLR:
    def __init__(self, optimizer, step_size, gamma=0.1):
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        self.last_epoch = 0

    def step(self):
        self.last_epoch += 1
        if self.last_epoch % self.step_size == 0:
            self.optimizer.lr = self.optimizer.lr * self.gamma

    def get_last_lr(self):
        return self.optimizer.lr


class CosineAnnealingLR:
    def __init__(self, optimizer, T_max, eta_min=0.0):
        self.optimizer, self.T_max, self.eta_min = optimizer, T_max, eta_min
        self.last_epoch = 0

    def step(self):
        self.last_epoch += 1
        e, T = self.last_epoch, self.T_max
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        self.optimizer.lr = self.eta_min + (self.optimizer.lr - self.eta_min) * ratio

    def get_last_lr(self):
        return self.optimizer.lr
