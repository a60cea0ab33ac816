"""Adagrad, RMSprop, Adam, AdamW: hand-computed steps, conventions and fixed linspace values."""

import math

import numpy as np
from linspace_cases import run_linspace
from numpy.testing import assert_allclose
from optim import SGD, Adagrad, Adam, AdamW, RMSprop


def test_adagrad_two_steps_by_hand():
    """s += g^2; lr / (1 + (t - 1) lr_decay); eps outside the square root."""
    p = np.array([1.0, 1.0])
    opt = Adagrad([p], lr=0.1, lr_decay=0.5)
    g = np.array([2.0, -0.5])
    opt.step([g])
    assert_allclose(p, [0.9, 1.1])  # first step: no decay, g / sqrt(g^2) = sign(g)
    opt.step([g])
    lr2 = 0.1 / 1.5
    assert_allclose(p, [0.9 - lr2 * 2 / math.sqrt(8), 1.1 + lr2 * 0.5 / math.sqrt(0.5)])
    assert opt.state[0]["step"] == 2
    assert_allclose(opt.state[0]["sum"], [8.0, 0.5])


def test_adagrad_initial_accumulator_is_set_in_init():
    """Like PyTorch, "sum" holds initial_accumulator_value before the first step."""
    opt = Adagrad([np.zeros(3)], initial_accumulator_value=0.3)
    assert_allclose(opt.state[0]["sum"], np.full(3, 0.3))


def test_adagrad_eps_is_outside_the_square_root():
    """eps = 1 makes the placement obvious: 0.01 / (0.01 + 1), not 0.01 / sqrt(0.0001 + 1)."""
    p = np.zeros(1)
    Adagrad([p], lr=1.0, eps=1.0).step([np.array([0.01])])
    assert_allclose(p, [-0.01 / 1.01])


def test_adagrad_linspace():
    """Three steps with lr_decay and an initial accumulator (PyTorch's numbers)."""
    w, state = run_linspace(Adagrad, 3, lr=0.1, lr_decay=0.1, initial_accumulator_value=0.1)
    expected_w = [
        [-0.221853121009, -0.140234464865, -0.063322703800, 0.005484319598],
        [0.060412402234, 0.095309971311, 0.115581691039, 0.142161727292],
        [0.187494722812, 0.249870540852, 0.323666577320, 0.404298824504],
    ]
    assert_allclose(w, expected_w, rtol=1e-8, atol=1e-10)
    assert_allclose(state["sum"][0], [0.87, 0.622066115702, 0.423719008264, 0.274958677686])


def test_rmsprop_first_step_by_hand():
    """v = (1 - alpha) g^2, then p -= lr g / (sqrt(v) + eps)."""
    p = np.array([0.0])
    RMSprop([p], lr=0.01, alpha=0.9).step([np.array([2.0])])
    assert_allclose(p, [-0.01 * 2 / (math.sqrt(0.4) + 1e-8)])


def test_rmsprop_centered_and_momentum_by_hand():
    """Centered: sqrt(v - gbar^2) = sqrt(0.4 - 0.04) = 0.6; momentum: b = mu b + g / d."""
    p = np.array([0.0])
    opt = RMSprop([p], lr=0.03, alpha=0.9, eps=0.0, centered=True, momentum=0.5)
    opt.step([np.array([2.0])])
    assert_allclose(p, [-0.1])
    assert_allclose(opt.state[0]["grad_avg"], [0.2])
    assert_allclose(opt.state[0]["momentum_buffer"], [2.0 / 0.6])
    opt.step([np.array([2.0])])
    d = math.sqrt(0.9 * 0.4 + 0.1 * 4.0 - (0.9 * 0.2 + 0.1 * 2.0) ** 2)
    assert_allclose(opt.state[0]["momentum_buffer"], [0.5 * 2.0 / 0.6 + 2.0 / d])


def test_rmsprop_centered_momentum_linspace():
    """Three steps of centered RMSprop with momentum (PyTorch's numbers)."""
    w, state = run_linspace(RMSprop, 3, lr=0.01, alpha=0.9, centered=True, momentum=0.5)
    expected_w = [
        [-0.288995185087, -0.199911499791, -0.111861332609, -0.025994636576],
        [0.054227268889, 0.117015623924, 0.142413212590, 0.097429746206],
        [0.193671892045, 0.288075965377, 0.381183729353, 0.473577110865],
    ]
    assert_allclose(w, expected_w, rtol=1e-8, atol=1e-10)
    assert_allclose(state["square_avg"][2], [0.01667157024, 0.03045504132, 0.04871785124, 0.07146])


def test_adam_first_step_moves_by_lr():
    """At t=1 bias correction makes m_hat = g and v_hat = g^2: each step is lr * g / (|g| + eps)."""
    p, g = np.array([1.0, -1.0, 0.5]), np.array([3.0, -0.2, 1e-3])
    opt = Adam([p], lr=0.01)
    opt.step([g])
    assert_allclose(p, [1.0, -1.0, 0.5] - 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-10)
    assert opt.state[0]["step"] == 1
    assert set(opt.state[0]) >= {"step", "exp_avg", "exp_avg_sq"}


def test_adam_linspace():
    """Five steps with the default betas (PyTorch's numbers), parameters and both moments."""
    w, state = run_linspace(Adam, 5, lr=0.01)
    expected_w = [
        [-0.351994082664, -0.261883418398, -0.172496956107, -0.084973895558],
        [-0.002457867336, 0.070717372914, 0.134643569573, 0.189918496851],
        [0.278335142367, 0.368507559040, 0.459121765309, 0.549895611820],
    ]
    assert_allclose(w, expected_w, rtol=1e-8, atol=1e-10)
    assert_allclose(
        state["exp_avg"][0], [-0.155216, -0.117987818182, -0.080759636364, -0.043531454545]
    )
    assert_allclose(
        state["exp_avg_sq"][1], [0.000106326012, 0.000114755508, 0.000205664508, 0.000379053012]
    )


def test_amsgrad_takes_the_max_of_the_raw_second_moment():
    """betas (0, 0.5): v = 2 then 1.5, so v_max = 2 and v_max / (1 - 0.25) is used at t=2."""
    p = np.array([0.0])
    opt = Adam([p], lr=0.1, betas=(0.0, 0.5), eps=0.0, amsgrad=True)
    opt.step([np.array([2.0])])
    assert_allclose(p, [-0.1])
    opt.step([np.array([1.0])])
    assert_allclose(p, [-0.1 - 0.1 * 1.0 / math.sqrt(2.0 / 0.75)])
    assert_allclose(opt.state[0]["max_exp_avg_sq"], [2.0])


def test_adam_weight_decay_is_l2_and_adamw_is_decoupled():
    """Zero gradient: Adam's L2 term still makes a full Adam step; AdamW only shrinks p."""
    p_adam, p_adamw, g = np.array([2.0]), np.array([2.0]), np.array([0.0])
    Adam([p_adam], lr=0.1, weight_decay=0.1).step([g])
    AdamW([p_adamw], lr=0.1, weight_decay=0.1).step([g])
    assert_allclose(p_adam, [2.0 - 0.1 * 0.2 / (0.2 + 1e-8)])
    assert_allclose(p_adamw, [2.0 * (1 - 0.1 * 0.1)])
    assert_allclose(g, [0.0], err_msg="step() must not modify the gradients it receives")


def test_adamw_default_weight_decay_is_0_01():
    """AdamW's default weight_decay is 0.01 (Adam's is 0)."""
    p = np.array([1.0])
    AdamW([p], lr=0.5).step([np.array([0.0])])
    assert_allclose(p, [1.0 - 0.5 * 0.01])


def test_adamw_amsgrad_linspace():
    """Three AdamW steps with amsgrad (PyTorch's numbers)."""
    w, state = run_linspace(AdamW, 3, lr=0.01, weight_decay=0.1, amsgrad=True)
    expected_w = [
        [-0.369187221451, -0.278669648893, -0.188244284228, -0.098049163970],
        [-0.008619512831, 0.077084505416, 0.149767077660, 0.207750658872],
        [0.296856658772, 0.387134619716, 0.477645694051, 0.568229012445],
    ]
    assert_allclose(w, expected_w, rtol=1e-8, atol=1e-10)
    assert_allclose(state["max_exp_avg_sq"][1, :2], [7.56548490e-05, 2.61539880e-05], rtol=1e-7)


def test_each_parameter_has_its_own_state():
    """Same shapes, different gradients: separate buffers, separate updates."""
    a, b = np.zeros(2), np.zeros(2)
    opt = Adam([a, b], lr=0.1)
    opt.step([np.array([1.0, 1.0]), np.array([-2.0, 0.0])])
    assert opt.state[0] is not opt.state[1]
    assert_allclose(opt.state[0]["exp_avg"], [0.1, 0.1])
    assert_allclose(opt.state[1]["exp_avg"], [-0.2, 0.0])
    assert_allclose(b, [0.1, 0.0], atol=1e-8)


def test_zero_gradients_change_nothing_and_give_no_nan():
    """g = 0 everywhere: no update, no NaN (watch 0 / 0 in the adaptive methods)."""
    for make in (
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: Adagrad(ps, lr=0.1),
        lambda ps: RMSprop(ps, lr=0.1, centered=True, momentum=0.5),
        lambda ps: Adam(ps, lr=0.1, amsgrad=True),
    ):
        p = np.array([1.0, -2.0])
        opt = make([p])
        for _ in range(3):
            opt.step([np.zeros(2)])
        assert_allclose(p, [1.0, -2.0], err_msg=type(opt).__name__)
