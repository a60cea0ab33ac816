"""Public tests for clip_grad_norm (global norm, in place, PyTorch's 1e-6 epsilon)."""

import numpy as np
import rnn_layers as L


def test_clip_345():
    """|(3, 4)| = 5 clipped to 3: every gradient is scaled by 3 / (5 + 1e-6), in place."""
    a, b = np.array([3.0]), np.array([[4.0]])
    grads = {"a": a, "b": b}
    total = L.clip_grad_norm(grads, 3.0)
    assert isinstance(total, float) and np.isclose(total, 5.0, rtol=1e-12)
    assert grads["a"] is a and grads["b"] is b, "clip in place: keep the same arrays"
    assert np.allclose(a, 3.0 * 3.0 / (5.0 + 1e-6), rtol=1e-12, atol=0)  # 1.79999964, not 1.8
    assert np.allclose(b, 4.0 * 3.0 / (5.0 + 1e-6), rtol=1e-12, atol=0)


def test_clip_is_global_not_per_array():
    """Both arrays share one scale, so their ratio is unchanged."""
    grads = {"small": np.array([0.1, 0.0]), "large": np.array([0.0, 10.0])}
    total = L.clip_grad_norm(grads, 1.0)
    assert np.isclose(total, np.sqrt(100.01), rtol=1e-12)
    scale = 1.0 / (np.sqrt(100.01) + 1e-6)
    assert np.allclose(grads["small"], [0.1 * scale, 0.0], rtol=1e-12, atol=0)
    assert np.allclose(grads["large"], [0.0, 10.0 * scale], rtol=1e-12, atol=0)


def test_clip_below_max_norm_changes_nothing():
    """A norm under max_norm leaves every gradient exactly as it was."""
    rng = np.random.default_rng(8)
    grads = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(3)}
    before = {k: v.copy() for k, v in grads.items()}
    total = L.clip_grad_norm(grads, 100.0)
    expected = np.sqrt(sum(np.sum(v**2) for v in before.values()))
    assert np.isclose(total, expected, rtol=1e-12)
    assert all(np.array_equal(grads[k], before[k]) for k in grads)
