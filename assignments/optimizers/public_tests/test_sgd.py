"""SGD: hand-computed steps, in-place updates, momentum conventions, fixed linspace values."""

import numpy as np
from linspace_cases import run_linspace
from numpy.testing import assert_allclose
from optim import SGD


def test_plain_step_by_hand():
    """One step: p - lr * g."""
    p = np.array([1.0, -2.0])
    SGD([p], lr=0.1).step([np.array([0.5, 0.5])])
    assert_allclose(p, [0.95, -2.05])


def test_updates_the_callers_array_in_place():
    """The arrays passed to the constructor are the ones that change."""
    w, b = np.ones((2, 3)), np.zeros(3)
    opt = SGD([w, b], lr=0.5)
    opt.step([np.ones((2, 3)), np.ones(3)])
    assert_allclose(w, np.full((2, 3), 0.5), err_msg="update params in place: p -= ... ")
    assert_allclose(b, np.full(3, -0.5), err_msg="update params in place: p -= ... ")


def test_momentum_first_step_is_not_dampened_on_a_0d_param():
    """b = g at t=1, then b = mu b + (1 - dampening) g; a 0-d parameter keeps its state."""
    p = np.array(1.0)
    opt = SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    expected = [0.9, 0.76, 0.584]  # buffers 1.0, 1.4, 1.76
    for want in expected:
        opt.step([np.array(1.0)])
        assert_allclose(p, want)
    assert_allclose(opt.state[0]["momentum_buffer"], 1.76)


def test_nesterov_by_hand():
    """Nesterov: g + mu * b, with b updated first."""
    p = np.zeros(2)
    opt = SGD([p], lr=0.1, momentum=0.5, nesterov=True)
    opt.step([np.array([1.0, 2.0])])
    assert_allclose(p, [-0.15, -0.3])
    opt.step([np.array([1.0, 2.0])])
    assert_allclose(p, [-0.325, -0.65])


def test_weight_decay_goes_into_the_gradient_and_leaves_grads_alone():
    """g + wd * p, computed on a copy: the caller's gradient array is unchanged."""
    p, g = np.array([2.0]), np.array([0.0])
    SGD([p], lr=0.1, weight_decay=0.5).step([g])
    assert_allclose(p, [1.9])
    assert_allclose(g, [0.0], err_msg="step() must not modify the gradients it receives")


def test_momentum_dampening_weight_decay_linspace():
    """Three steps on fixed linspace values (PyTorch's numbers)."""
    w, state = run_linspace(SGD, 3, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)
    expected_w = [
        [-0.114019343076, -0.071918693241, -0.029818043405, 0.012282606430],
        [0.054383256266, 0.096483906101, 0.138584555937, 0.180685205772],
        [0.222785855608, 0.264886505443, 0.306987155279, 0.349087805114],
    ]
    expected_buffer = [
        [-1.259150169240, -1.028074031231, -0.796997893222, -0.565921755213],
        [-0.334845617204, -0.103769479195, 0.127306658815, 0.358382796824],
        [0.589458934833, 0.820535072842, 1.051611210851, 1.282687348860],
    ]
    assert_allclose(w, expected_w, rtol=1e-8, atol=1e-10)
    assert_allclose(state["momentum_buffer"], expected_buffer, rtol=1e-8, atol=1e-10)


def test_nesterov_linspace():
    """Three Nesterov steps on fixed linspace values (PyTorch's numbers)."""
    w, _ = run_linspace(SGD, 3, lr=0.1, momentum=0.9, nesterov=True)
    expected_w = [
        [0.017840000000, 0.035576363636, 0.053312727273, 0.071049090909],
        [0.088785454545, 0.106521818182, 0.124258181818, 0.141994545455],
        [0.159730909091, 0.177467272727, 0.195203636364, 0.212940000000],
    ]
    assert_allclose(w, expected_w, rtol=1e-8, atol=1e-10)


def test_momentum_buffer_is_a_copy_of_the_gradient():
    """The caller refills the same gradient array before every step (as PyTorch refills .grad):
    a buffer that IS that array would silently change. b = mu * g1 + g2 after two steps."""
    p, g = np.zeros(2), np.array([1.0, 2.0])
    opt = SGD([p], lr=0.1, momentum=0.5)
    opt.step([g])
    g[...] = [10.0, 20.0]
    opt.step([g])
    assert_allclose(opt.state[0]["momentum_buffer"], [10.5, 21.0])
    assert_allclose(g, [10.0, 20.0], err_msg="step() must not modify the gradients it receives")


def test_arithmetic_is_float64():
    """float64 keeps about 16 digits, float32 about 7: the grader compares to 10 (rtol=1e-10)."""
    p = np.array([1.0])
    SGD([p], lr=0.1).step([np.array([1.0 / 3.0])])
    assert_allclose(p, [1.0 - 0.1 / 3.0], rtol=1e-12, err_msg="compute in float64, not float32")
