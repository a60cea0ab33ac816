"""torch.optim itself behind the assignment's interface: the oracle the solution follows.

Staff fixture only (students may not import torch). Each NumPy parameter is shared with a
float64 tensor (torch.from_numpy), so torch's in-place updates are the caller's updates;
step(grads) hands torch a copy of each gradient; opt.lr and opt.state read and write torch's
param group and state (tensors shown as NumPy copies)."""

import numpy as np
import torch


class _TorchOptimizer:
    torch_class = None

    def __init__(self, params, **kwargs):
        self.params = list(params)
        self.tensors = [torch.from_numpy(p) for p in self.params]
        self.torch = self.torch_class(self.tensors, **kwargs)

    @property
    def lr(self):
        return self.torch.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value):
        self.torch.param_groups[0]["lr"] = value

    @property
    def state(self):
        shown = []
        for tensor in self.tensors:
            entries = self.torch.state.get(tensor, {})
            shown.append(
                {k: v.numpy().copy() if torch.is_tensor(v) else v for k, v in entries.items()}
            )
        return shown

    def step(self, grads):
        for tensor, g in zip(self.tensors, grads, strict=True):
            tensor.grad = torch.from_numpy(np.array(g, dtype=np.float64))
        self.torch.step()


class SGD(_TorchOptimizer):
    torch_class = torch.optim.SGD


class Adagrad(_TorchOptimizer):
    torch_class = torch.optim.Adagrad


class RMSprop(_TorchOptimizer):
    torch_class = torch.optim.RMSprop


class Adam(_TorchOptimizer):
    torch_class = torch.optim.Adam


class AdamW(_TorchOptimizer):
    torch_class = torch.optim.AdamW
