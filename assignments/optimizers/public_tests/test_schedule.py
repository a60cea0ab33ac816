"""StepLR and CosineAnnealingLR: hand-computed rates, and the optimizer uses them."""

import math

import numpy as np
from numpy.testing import assert_allclose
from optim import SGD
from schedule import CosineAnnealingLR, StepLR


def _rates(sched, epochs: int) -> list[float]:
    """get_last_lr() at epoch 0 (after construction) and after each of `epochs` steps."""
    rates = [sched.get_last_lr()]
    for _ in range(epochs):
        sched.step()
        rates.append(sched.get_last_lr())
    return rates


def test_steplr_sequence():
    """StepLR(3, 0.5) from 0.1: three epochs at each rate, starting at epoch 0."""
    opt = SGD([np.zeros(1)], lr=0.1)
    rates = _rates(StepLR(opt, step_size=3, gamma=0.5), 6)
    assert_allclose(rates, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])
    assert_allclose(opt.lr, 0.025, err_msg="the schedule must write the rate into optimizer.lr")


def test_cosine_sequence():
    """T_max = 4 from 1.0 to 0: 1, (1 + cos(pi/4)) / 2, 1/2, (1 - cos(pi/4)) / 2, 0."""
    opt = SGD([np.zeros(1)], lr=1.0)
    c = math.cos(math.pi / 4)
    rates = _rates(CosineAnnealingLR(opt, T_max=4), 4)
    assert_allclose(rates, [1.0, (1 + c) / 2, 0.5, (1 - c) / 2, 0.0], atol=1e-15)


def test_cosine_eta_min():
    """Half way, the rate is the mean of the initial rate and eta_min; at T_max it is eta_min."""
    opt = SGD([np.zeros(1)], lr=0.3)
    rates = _rates(CosineAnnealingLR(opt, T_max=6, eta_min=0.1), 6)
    assert_allclose([rates[3], rates[6]], [0.2, 0.1])
    assert_allclose(opt.lr, 0.1)


def test_optimizer_steps_with_the_scheduled_rate():
    """After sched.step() the next opt.step() uses the new rate."""
    p = np.array([0.0])
    opt = SGD([p], lr=1.0)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    opt.step([np.array([1.0])])  # lr 1.0
    sched.step()
    opt.step([np.array([1.0])])  # lr 0.5
    assert_allclose(p, [-1.5])


def test_get_last_lr_is_a_float():
    """A float equal to optimizer.lr (PyTorch returns a list, one rate per param group)."""
    opt = SGD([np.zeros(1)], lr=0.3)
    sched = StepLR(opt, step_size=2)
    assert isinstance(sched.get_last_lr(), float)
    assert sched.get_last_lr() == opt.lr
