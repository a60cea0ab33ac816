"""A small LeNet for 8x8 digits, and its training loop, in PyTorch.

Mutant lenet_unseeded: train_lenet never seeds: the initial weights and the shuffles come
from the global random state.

Architecture (parameter names are part of the contract):
conv1 (1->6, 3x3, pad 1) - ReLU - maxpool 2 - conv2 (6->16, 3x3, pad 1) - ReLU - maxpool 2
- flatten (16*2*2 = 64) - fc1 (64->32) - ReLU - fc2 (32->10) -> logits.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

EPOCHS = 30
BATCH_SIZE = 64
LEARNING_RATE = 1e-2


class LeNetSmall(nn.Module):
    """LeNet-style CNN: (N, 1, 8, 8) images -> (N, 10) class logits."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, 10) for images x (N, 1, 8, 8)."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # (N, 6, 4, 4)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # (N, 16, 2, 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


def _train_epoch(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LRScheduler,
    data: tuple[torch.Tensor, torch.Tensor],
    gen: torch.Generator,
) -> None:
    """One pass over data = (x, y) in freshly shuffled mini-batches."""
    x, y = data
    # Shuffle every epoch: the data may arrive sorted by label.
    order = torch.randperm(x.shape[0], generator=gen).to(x.device)
    for start in range(0, x.shape[0], BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        loss = F.cross_entropy(model(x[batch]), y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()  # the cosine schedule advances per batch


def train_lenet(
    x_train: np.ndarray, y_train: np.ndarray, *, device: str = "cpu", seed: int = 0
) -> LeNetSmall:
    """Train a fresh LeNetSmall on x_train (N, 1, 8, 8) float32, y_train (N,) int; return it."""
    gen = None  # BUG: no torch.manual_seed(seed), no seeded generator
    model = LeNetSmall().to(device)
    x = torch.as_tensor(x_train, dtype=torch.float32, device=device)
    y = torch.as_tensor(y_train, dtype=torch.long, device=device)
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    steps = EPOCHS * -(-x.shape[0] // BATCH_SIZE)
    # Annealing the rate to zero steadies the final weights (less seed-to-seed spread).
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    model.train()
    for _ in range(EPOCHS):
        _train_epoch(model, opt, sched, (x, y), gen)
    return model.eval()
