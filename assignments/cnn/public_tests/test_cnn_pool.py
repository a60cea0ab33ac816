"""Public tests for pool.py: hand-computed values, PyTorch's conventions, finite differences."""

from __future__ import annotations

import numpy as np
import pool
import pytest
from cnn_gradcheck import numeric_gradient, relative_error

GRID = np.arange(16.0).reshape(1, 1, 4, 4)  # 0..15, row by row


def test_maxpool_forward_hand_computed():
    """2x2 windows with the default stride (2) over 0..15."""
    out, _ = pool.maxpool2d_forward(GRID, 2)
    np.testing.assert_allclose(out, [[[[5.0, 7.0], [13.0, 15.0]]]])


def test_maxpool_backward_routes_to_the_max():
    """Each window's gradient lands on its maximum; all other inputs get zero."""
    _, cache = pool.maxpool2d_forward(GRID, 2)
    dx = pool.maxpool2d_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((1, 1, 4, 4))
    expected[0, 0, 1, 1], expected[0, 0, 1, 3] = 1.0, 2.0
    expected[0, 0, 3, 1], expected[0, 0, 3, 3] = 3.0, 4.0
    np.testing.assert_allclose(dx, expected)


def test_maxpool_tie_goes_to_the_first_maximum():
    """A window of equal values sends its gradient to the first one in row-major order."""
    _, cache = pool.maxpool2d_forward(np.ones((1, 1, 2, 2)), 2)
    dx = pool.maxpool2d_backward(np.ones((1, 1, 1, 1)), cache)
    np.testing.assert_allclose(dx, [[[[1.0, 0.0], [0.0, 0.0]]]])


def test_maxpool_tie_order_is_row_major():
    """[[0, 1], [1, 0]]: the top-right 1 comes first row by row (column by column it would be
    the bottom-left one)."""
    _, cache = pool.maxpool2d_forward(np.array([[[[0.0, 1.0], [1.0, 0.0]]]]), 2)
    dx = pool.maxpool2d_backward(np.full((1, 1, 1, 1), 3.0), cache)
    np.testing.assert_allclose(dx, [[[[0.0, 3.0], [0.0, 0.0]]]])


def test_maxpool_overlapping_windows_add_up(rng):
    """k=3, stride 2 on 5x5: the centre wins all four windows and collects all four grads."""
    x = rng.uniform(-1.0, 0.0, size=(1, 1, 5, 5))
    x[0, 0, 2, 2] = 5.0
    out, cache = pool.maxpool2d_forward(x, 3, 2)
    np.testing.assert_allclose(out, np.full((1, 1, 2, 2), 5.0))
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = pool.maxpool2d_backward(dout, cache)
    assert dx[0, 0, 2, 2] == pytest.approx(10.0)
    assert np.count_nonzero(dx) == 1


def test_maxpool_padding_never_wins(rng):
    """Padding acts as -inf: negative inputs still pool to negative values."""
    x = -rng.uniform(1.0, 2.0, size=(1, 2, 4, 4))
    out, _ = pool.maxpool2d_forward(x, 2, 2, 1)
    assert out.shape == (1, 2, 3, 3)
    assert np.all(out < 0)
    np.testing.assert_allclose(out[:, :, 0, 0], x[:, :, 0, 0])


def test_maxpool_shapes_and_padding_rule():
    """Odd sizes round down; padding above kernel_size // 2 is refused."""
    out, _ = pool.maxpool2d_forward(np.zeros((2, 3, 7, 9)), 2)
    assert out.shape == (2, 3, 3, 4)
    with pytest.raises(ValueError):
        pool.maxpool2d_forward(np.zeros((1, 1, 6, 6)), 2, 2, 2)


def test_padding_at_the_limit_is_allowed():
    """padding == kernel_size // 2 is fine for both poolings (3 // 2 = 1)."""
    x = np.zeros((1, 1, 4, 4))
    assert pool.maxpool2d_forward(x, 3, 1, 1)[0].shape == (1, 1, 4, 4)
    assert pool.avgpool2d_forward(x, 3, 1, 1)[0].shape == (1, 1, 4, 4)
    with pytest.raises(ValueError):
        pool.avgpool2d_forward(x, 3, 1, 2)


def test_pooling_keeps_float64_and_leaves_inputs_alone(rng):
    """Values near 1e4 pool exactly in float64; x and dout are not modified."""
    x = 1e4 + rng.standard_normal((1, 2, 4, 6))
    for forward, backward in (
        (pool.maxpool2d_forward, pool.maxpool2d_backward),
        (pool.avgpool2d_forward, pool.avgpool2d_backward),
    ):
        x_saved = x.copy()
        out, cache = forward(x, 2)
        dout = rng.standard_normal(out.shape)
        dout_saved = dout.copy()
        dx = backward(dout, cache)
        assert out.dtype == dx.dtype == np.float64
        np.testing.assert_array_equal(x, x_saved)
        np.testing.assert_array_equal(dout, dout_saved)
    blocks = x.reshape(1, 2, 2, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5).reshape(1, 2, 2, 3, 4)
    out, _ = pool.avgpool2d_forward(x, 2)
    np.testing.assert_allclose(out - 1e4, blocks.mean(axis=-1) - 1e4, rtol=1e-9, atol=1e-9)


def test_avgpool_forward_hand_computed():
    """Means of the 2x2 blocks of 0..15."""
    out, _ = pool.avgpool2d_forward(GRID, 2)
    np.testing.assert_allclose(out, [[[[2.5, 4.5], [10.5, 12.5]]]])


@pytest.mark.parametrize(("include", "expected"), [(True, 0.25), (False, 1.0)])
def test_avgpool_count_include_pad(include, expected):
    """Ones(2x2), kernel 2, padding 1: each window holds one real one (PyTorch's example)."""
    out, _ = pool.avgpool2d_forward(np.ones((1, 1, 2, 2)), 2, padding=1, count_include_pad=include)
    np.testing.assert_allclose(out, np.full((1, 1, 2, 2), expected))


def test_avgpool_backward_spreads_evenly():
    """Non-overlapping 2x2 windows: every input gets a quarter of its window's gradient."""
    _, cache = pool.avgpool2d_forward(GRID, 2)
    dx = pool.avgpool2d_backward(np.ones((1, 1, 2, 2)), cache)
    np.testing.assert_allclose(dx, np.full((1, 1, 4, 4), 0.25))


POOL_SETTINGS = [(2, None, 0), (3, 2, 1), (3, 1, 0), (2, 3, 1)]


@pytest.mark.parametrize(("kernel", "stride", "padding"), POOL_SETTINGS)
def test_maxpool_backward_matches_finite_differences(rng, kernel, stride, padding):
    """dx against central differences of L = sum(out * dout) (continuous inputs: no ties)."""
    x = rng.standard_normal((2, 2, 7, 6))
    out, cache = pool.maxpool2d_forward(x, kernel, stride, padding)
    dout = rng.standard_normal(out.shape)
    dx = pool.maxpool2d_backward(dout, cache)

    def loss() -> float:
        return float(np.sum(pool.maxpool2d_forward(x, kernel, stride, padding)[0] * dout))

    assert relative_error(dx, numeric_gradient(loss, x)) < 1e-7


@pytest.mark.parametrize("include", [True, False])
@pytest.mark.parametrize(("kernel", "stride", "padding"), POOL_SETTINGS)
def test_avgpool_backward_matches_finite_differences(rng, kernel, stride, padding, include):
    """dx against central differences, padding counted in the divisor or not."""
    x = rng.standard_normal((2, 2, 7, 6))
    out, cache = pool.avgpool2d_forward(x, kernel, stride, padding, include)
    dout = rng.standard_normal(out.shape)
    dx = pool.avgpool2d_backward(dout, cache)

    def loss() -> float:
        return float(np.sum(pool.avgpool2d_forward(x, kernel, stride, padding, include)[0] * dout))

    assert relative_error(dx, numeric_gradient(loss, x)) < 1e-7
