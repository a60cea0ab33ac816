"""Correct lenet.py written differently: pooling and activations as modules, a DataLoader
with a seeded generator, SGD with Nesterov momentum and a step schedule.

A staff fixture: a correct alternative the hidden cases must give full marks.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class LeNetSmall(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 16, 3, padding=1)
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)
        self.pool = nn.MaxPool2d(2)
        self.act = nn.ReLU()
        self.flat = nn.Flatten()

    def forward(self, x):
        x = self.pool(self.act(self.conv1(x)))
        x = self.pool(self.act(self.conv2(x)))
        return self.fc2(self.act(self.fc1(self.flat(x))))


def train_lenet(x_train: np.ndarray, y_train: np.ndarray, *, device="cpu", seed=0) -> LeNetSmall:
    torch.manual_seed(seed)
    model = LeNetSmall().to(device)
    data = TensorDataset(torch.from_numpy(x_train).float(), torch.from_numpy(y_train).long())
    loader = DataLoader(
        data, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(seed)
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=8, gamma=0.3)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(20):
        model.train()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        sched.step()
    return model.eval()
