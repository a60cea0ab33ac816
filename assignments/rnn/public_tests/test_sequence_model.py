"""Public tests for RNNRegressor (shapes, fresh state, gradients) and a short training run."""

import numpy as np
import sequence_model as S
from gradcheck import rel_error

SHAPES = {
    "W_ih": (5, 2),
    "W_hh": (5, 5),
    "b_ih": (5,),
    "b_hh": (5,),
    "W_out": (1, 5),
    "b_out": (1,),
}


def adding_task(n, steps, rng):
    """The adding task: (value, marker) pairs; the target sums the two marked values."""
    values = rng.uniform(0.0, 1.0, (n, steps))
    markers = np.zeros((n, steps))
    markers[np.arange(n), rng.integers(0, steps // 2, n)] = 1.0
    markers[np.arange(n), rng.integers(steps // 2, steps, n)] = 1.0
    return np.stack([values, markers], axis=-1), (values * markers).sum(axis=1)


def test_params_keys_and_shapes():
    """self.params holds exactly the six documented arrays."""
    model = S.RNNRegressor(2, 5, np.random.default_rng(0))
    assert {k: v.shape for k, v in model.params.items()} == SHAPES


def test_params_are_drawn_from_rng():
    """The same seed gives the same float64 weights; np.random is not used."""
    first = S.RNNRegressor(2, 5, np.random.default_rng(7)).params
    again = S.RNNRegressor(2, 5, np.random.default_rng(7)).params
    assert all(np.array_equal(first[k], again[k]) for k in SHAPES)
    assert all(first[k].dtype == np.float64 for k in SHAPES)


def test_predict_starts_from_zero_each_call():
    """predict has no memory: each sequence is independent of earlier calls and batches."""
    rng = np.random.default_rng(1)
    model = S.RNNRegressor(2, 5, rng)
    a, b = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 4, 2))
    pred_a = model.predict(a)
    assert pred_a.shape == (3,)
    model.predict(b)
    assert np.allclose(model.predict(a), pred_a, rtol=1e-12, atol=0)
    assert np.allclose(model.predict(a[1:2]), pred_a[1:2], rtol=1e-12, atol=0)


def test_predict_reads_params():
    """Weights set in self.params are the ones used (here: the read-out bias alone)."""
    model = S.RNNRegressor(2, 5, np.random.default_rng(2))
    model.params["W_out"] = np.zeros((1, 5))
    model.params["b_out"] = np.array([0.75])
    assert np.allclose(model.predict(np.ones((2, 3, 2))), [0.75, 0.75])


def test_loss_and_grads_gradcheck():
    """The MSE loss and every parameter gradient match finite differences."""
    rng = np.random.default_rng(3)
    model = S.RNNRegressor(2, 5, rng)
    x, y = rng.standard_normal((4, 6, 2)), rng.standard_normal(4)
    loss, grads = model.loss_and_grads(x, y)
    assert np.isclose(loss, np.mean((model.predict(x) - y) ** 2), rtol=1e-12)
    assert {k: v.shape for k, v in grads.items()} == SHAPES
    for name, param in model.params.items():
        numeric = np.zeros_like(param)
        for idx in np.ndindex(param.shape):
            old = param[idx]
            param[idx] = old + 1e-5
            plus = model.loss_and_grads(x, y)[0]
            param[idx] = old - 1e-5
            minus = model.loss_and_grads(x, y)[0]
            param[idx] = old
            numeric[idx] = (plus - minus) / 2e-5
        assert rel_error(grads[name], numeric) < 1e-6, f"d{name} disagrees with finite differences"


def test_train_regressor_learns_adding():
    """Training reaches a held-out MSE of at most 0.01 (predicting 1.0 scores about 0.17)."""
    rng = np.random.default_rng(4)
    x, y = adding_task(4000, 10, rng)
    test_x, test_y = adding_task(500, 10, rng)
    model = S.train_regressor(x, y, np.random.default_rng(5))
    mse = float(np.mean((model.predict(test_x) - test_y) ** 2))
    assert mse <= 0.01, f"held-out MSE {mse:.4f} > 0.01"
