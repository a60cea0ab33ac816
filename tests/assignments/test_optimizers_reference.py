"""Staff checks for assignments/optimizers: the solution is torch.optim, the public tests bite.

torch is the oracle here (float64, CPU); students never see it. The hidden cases compare a
submission with the solution, so the solution matching torch is what makes them right.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch  # the oracle (requirements-dev), float64 on CPU

from tests.assignments.casekit import load_file

PACKAGE = Path(__file__).resolve().parents[2] / "assignments" / "optimizers"
SHAPES = ((), (5,), (3, 4))
STEPS = 30

OPTIMIZER_CONFIGS = [
    ("SGD", {"lr": 0.07}),
    ("SGD", {"lr": 0.03, "momentum": 0.9, "dampening": 0.25}),
    ("SGD", {"lr": 0.02, "momentum": 0.85, "nesterov": True, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.6, "weight_decay": 0.15}),
    ("Adagrad", {"lr": 0.2, "lr_decay": 0.05, "initial_accumulator_value": 0.3}),
    ("Adagrad", {"lr": 0.1, "eps": 0.1, "weight_decay": 0.02}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9}),
    ("RMSprop", {"lr": 0.01, "eps": 0.1, "momentum": 0.7}),
    (
        "RMSprop",
        {"lr": 0.01, "alpha": 0.95, "momentum": 0.8, "centered": True, "weight_decay": 0.05},
    ),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99)}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "betas": (0.9, 0.99), "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.2}),
    ("AdamW", {"lr": 0.1}),
    ("AdamW", {"lr": 0.05, "amsgrad": True}),
    # every default (the hidden `defaults` case builds each optimizer from its params alone)
    ("SGD", {}),
    ("Adagrad", {}),
    ("RMSprop", {}),
    ("Adam", {}),
    ("AdamW", {}),
]

STATE_KEYS = {
    "SGD": ("momentum_buffer",),
    "Adagrad": ("sum", "step"),
    "RMSprop": ("square_avg", "grad_avg", "momentum_buffer", "step"),
    "Adam": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"),
    "AdamW": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"),
}


def _load(folder: str, name: str) -> ModuleType:
    """Import <package>/<folder>/<name>.py under a private name (no sys.path, no clashes)."""
    return load_file(f"optimizers_{folder}_{name}", PACKAGE / folder / f"{name}.py")


@pytest.fixture(scope="module")
def solution() -> dict[str, ModuleType]:
    return {name: _load("solution", name) for name in ("optim", "schedule", "minibatch")}


def _noisy_gradients(seed: int) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """Initial params, plus noise that is large early and small late (so AMSGrad's max matters)."""
    rng = np.random.default_rng(seed)
    params = [np.array(rng.standard_normal(shape)) for shape in SHAPES]  # shape (): a 0-d array
    noise = [
        [np.array((0.3 + 1.5 * 0.8**t) * rng.standard_normal(s)) for s in SHAPES]
        for t in range(STEPS)
    ]
    return params, noise


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZER_CONFIGS, ids=lambda v: str(v))
def test_solution_follows_torch_optim(solution, name, kwargs):
    """30 float64 steps on a scalar, a vector and a matrix: params and state equal torch's."""
    init, noise = _noisy_gradients(seed=len(name) * 1000 + len(kwargs))
    ours = [p.copy() for p in init]
    theirs = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in init]
    opt = getattr(solution["optim"], name)(ours, **kwargs)
    ref = getattr(torch.optim, name)(theirs, **kwargs)
    for t in range(STEPS):
        # The gradient depends on the current params, so any drift would compound.
        opt.step([p + n for p, n in zip(ours, noise[t], strict=True)])
        for p, n in zip(theirs, noise[t], strict=True):
            p.grad = p.detach() + torch.from_numpy(n)
        ref.step()
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            np.testing.assert_allclose(
                a, b.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=f"param{i} step{t + 1}"
            )
    for i, p in enumerate(theirs):
        for key in STATE_KEYS[name]:
            if key in ref.state[p]:
                np.testing.assert_allclose(
                    opt.state[i][key],
                    ref.state[p][key].numpy(),
                    rtol=1e-10,
                    atol=1e-12,
                    err_msg=key,
                )


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("StepLR", {"step_size": 3, "gamma": 0.5}),
        ("StepLR", {"step_size": 2, "gamma": 0.37}),
        ("CosineAnnealingLR", {"T_max": 8}),
        ("CosineAnnealingLR", {"T_max": 11, "eta_min": 0.013}),
    ],
)
def test_schedules_follow_torch(solution, name, kwargs):
    """get_last_lr() and optimizer.lr after every step equal torch's (cosine: up to T_max)."""
    opt = solution["optim"].SGD([np.zeros(2)], lr=0.2)
    ref_opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.2)
    sched = getattr(solution["schedule"], name)(opt, **kwargs)
    ref = getattr(torch.optim.lr_scheduler, name)(ref_opt, **kwargs)
    for _ in range(kwargs.get("T_max", 10)):
        assert sched.get_last_lr() == pytest.approx(ref.get_last_lr()[0], rel=1e-12, abs=1e-15)
        assert opt.lr == pytest.approx(ref_opt.param_groups[0]["lr"], rel=1e-12, abs=1e-15)
        ref_opt.step()  # torch warns when the scheduler steps before the optimizer
        sched.step()
        ref.step()


def test_steplr_matches_the_handout(solution):
    """The handout's StepLR(3, 0.5) example: 0.1 for three epochs, then halved every three."""
    opt = solution["optim"].SGD([np.zeros(1)], lr=0.1)
    sched = solution["schedule"].StepLR(opt, step_size=3, gamma=0.5)
    seen = [sched.get_last_lr()]
    for _ in range(6):
        sched.step()
        seen.append(sched.get_last_lr())
    assert seen == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])
