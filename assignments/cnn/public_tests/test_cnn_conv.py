"""Public tests for conv.py: hand-computed values, the definition, finite differences."""

from __future__ import annotations

import conv
import numpy as np
import pytest
from cnn_gradcheck import numeric_gradient, relative_error


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [(7, 3, 2, 0, 3), (8, 3, 2, 1, 4), (8, 3, 2, 0, 3), (5, 5, 1, 0, 1), (32, 5, 1, 2, 32)],
)
def test_output_size_examples(size, kernel, stride, padding, expected):
    """The handout's table, including a last window that does not fit (floor)."""
    assert conv.conv_output_size(size, kernel, stride, padding) == expected


def test_output_size_rejects_kernel_larger_than_padded_input():
    """A 6-wide kernel cannot fit into 3 + 2*1 = 5 positions."""
    with pytest.raises(ValueError):
        conv.conv_output_size(3, 6, 1, 1)


def test_output_size_kernel_as_long_as_the_padded_input_fits_once():
    """F == W + 2P: one window, no error."""
    assert conv.conv_output_size(3, 5, 2, 1) == 1


def test_forward_keeps_float64_precision():
    """A difference kernel on values near 1e4 that differ by 1e-3: float64 gets 1e-3 to
    ~1e-12, float32 (spacing ~1e-3 near 1e4) gets 0 or 2e-3. Outputs are float64."""
    x = (1e4 + 1e-3 * np.arange(6.0)).reshape(1, 1, 1, 6)
    w = np.array([-1.0, 1.0]).reshape(1, 1, 1, 2)
    out, cache = conv.conv2d_forward(x, w, np.zeros(1))
    np.testing.assert_allclose(out, np.full((1, 1, 1, 5), 1e-3), rtol=1e-6)
    dx, dw, db = conv.conv2d_backward(np.ones_like(out), cache)
    assert {a.dtype for a in (out, dx, dw, db)} == {np.dtype(np.float64)}


def test_forward_is_cross_correlation():
    """The kernel is not flipped: out[0, 0] = 0*1 + 1*2 + 3*3 + 4*4 = 27, and so on."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    out, _ = conv.conv2d_forward(x, w, np.array([0.5]))
    np.testing.assert_allclose(out, [[[[27.5, 37.5], [57.5, 67.5]]]])


def test_forward_padding_and_stride():
    """Ones through a 3x3 ones kernel, padding 1, stride 2: windows see 4, 6, 6, 9 ones."""
    out, _ = conv.conv2d_forward(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), np.zeros(1), 2, 1)
    np.testing.assert_allclose(out, [[[[4.0, 6.0], [6.0, 9.0]]]])


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1), (3, 2), (2, 0)])
def test_forward_matches_definition(rng, stride, padding):
    """Shape and 20 random output entries against the formula in the handout."""
    x = rng.standard_normal((2, 3, 6, 5))
    w = rng.standard_normal((4, 3, 2, 3))
    b = rng.standard_normal(4)
    out, _ = conv.conv2d_forward(x, w, b, stride, padding)
    ho = (6 + 2 * padding - 2) // stride + 1
    wo = (5 + 2 * padding - 3) // stride + 1
    assert out.shape == (2, 4, ho, wo)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    for _ in range(20):
        n, f, i, j = (int(rng.integers(d)) for d in out.shape)
        window = xp[n, :, i * stride : i * stride + 2, j * stride : j * stride + 3]
        assert out[n, f, i, j] == pytest.approx(np.sum(window * w[f]) + b[f])


def test_forward_and_backward_leave_inputs_alone(rng):
    """Neither pass may modify x, w, b or dout."""
    x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), np.ones(3)
    saved = [a.copy() for a in (x, w, b)]
    out, cache = conv.conv2d_forward(x, w, b, 2, 1)
    dout = rng.standard_normal(out.shape)
    dout_saved = dout.copy()
    conv.conv2d_backward(dout, cache)
    for before, after in zip(saved + [dout_saved], [x, w, b, dout], strict=True):
        np.testing.assert_array_equal(before, after)


def test_db_sums_over_batch_and_positions(rng):
    """With dout = 1 everywhere, db[f] counts the outputs of filter f: N * Ho * Wo = 2*3*4."""
    out, cache = conv.conv2d_forward(
        rng.standard_normal((2, 1, 5, 6)), rng.standard_normal((3, 1, 3, 3)), np.zeros(3)
    )
    _, _, db = conv.conv2d_backward(np.ones_like(out), cache)
    np.testing.assert_allclose(db, [24.0, 24.0, 24.0])


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1), (3, 2), (1, 2)])
def test_backward_matches_finite_differences(rng, stride, padding):
    """dx, dw and db against central differences of L = sum(out * dout)."""
    x = rng.standard_normal((2, 2, 7, 6))
    w = rng.standard_normal((3, 2, 3, 2))
    b = rng.standard_normal(3)
    out, cache = conv.conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv.conv2d_backward(dout, cache)
    assert (dx.shape, dw.shape, db.shape) == (x.shape, w.shape, b.shape)

    def loss() -> float:
        return float(np.sum(conv.conv2d_forward(x, w, b, stride, padding)[0] * dout))

    for analytic, param in ((dx, x), (dw, w), (db, b)):
        assert relative_error(analytic, numeric_gradient(loss, param)) < 1e-7
