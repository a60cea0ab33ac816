"""torch.optim.lr_scheduler behind the assignment's interface (needs torch_oracle's optim)."""

import warnings

import torch


class _TorchSchedule:
    torch_class = None

    def __init__(self, optimizer, *args, **kwargs):
        self.optimizer = optimizer
        self.torch = self.torch_class(optimizer.torch, *args, **kwargs)

    def step(self):
        with warnings.catch_warnings():  # "lr_scheduler.step() before optimizer.step()"
            warnings.simplefilter("ignore", UserWarning)
            self.torch.step()

    def get_last_lr(self):
        return self.torch.get_last_lr()[0]


class StepLR(_TorchSchedule):
    torch_class = torch.optim.lr_scheduler.StepLR


class CosineAnnealingLR(_TorchSchedule):
    torch_class = torch.optim.lr_scheduler.CosineAnnealingLR
