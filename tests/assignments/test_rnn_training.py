"""rnn's train_adding, judged outside on per-run data (in-process, tests/assignments/casekit.py).

Every run gets fresh adding-task sequences of a variant drawn from its secret (target weights,
rotated input features); the case returns RNNRegressor.params and hidden/checks.py runs the
handout's model on them over held-out sequences kept on the worker. The solution passes for
several secrets; the starter, weights trained offline and pasted in, a predict that computes
the answer in closed form without training, and malformed outputs fail, with feedback rather
than an exception. The 24-secret margin is assignments/rnn/tools/margin.py.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from casekit import judge, run_case, run_without_torch, submitted

from grader.package import load_package
from grader.rundata import load_trusted, prepare_run

PACKAGE = Path(__file__).resolve().parents[2] / "assignments" / "rnn"
CASE = "train_adding"
SEED = 2024
SECRETS = (11, 12, 13)  # the solution must pass each (margin over 24: tools/margin.py)
OTHER_SECRETS = range(20, 32)  # runs an attack is judged on
KEYS = ("W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out")
FILES = ["rnn_layers", "sequence_model"]


@pytest.fixture(scope="module")
def package():
    return load_package(PACKAGE)


@pytest.fixture(scope="module")
def checks(package):
    return load_trusted(package.read("hidden/checks.py"), "hidden/checks.py", "_rnn_checks")


@pytest.fixture(scope="module")
def solution_params(tmp_path_factory) -> dict[int, dict]:
    """The solution's train_adding outputs for each secret in SECRETS (trained once)."""
    tmp = tmp_path_factory.mktemp("rnn-solution")
    return {
        s: run_case(PACKAGE, PACKAGE / "solution", CASE, seed=SEED, secret=s, tmp_path=tmp)
        for s in SECRETS
    }


def _plain_adding(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The public adding task (public_tests/test_sequence_model.py): (value, marker), sum."""
    values = rng.uniform(0.0, 1.0, (n, 10))
    markers = np.zeros((n, 10))
    markers[np.arange(n), rng.integers(0, 5, n)] = 1.0
    markers[np.arange(n), rng.integers(5, 10, n)] = 1.0
    return np.stack([values, markers], axis=-1), (values * markers).sum(axis=1)


@pytest.fixture(scope="module")
def offline_model():
    """What a student can do at home: the solution trained on the public adding task."""
    with submitted(PACKAGE / "solution", FILES):
        model_mod = importlib.import_module("sequence_model")
        x, y = _plain_adding(4000, np.random.default_rng(1))
        model = model_mod.train_regressor(x, y, np.random.default_rng(2))
    return {k: np.array(v) for k, v in model.params.items()}


def _mse(checks, params: dict, held: dict) -> float:
    pred = checks.regressor_predict(params, held["adding_held_x"])
    return float(np.mean((pred - held["adding_held_y"]) ** 2))


# ------------------------------------------------------------------------------- the data


def test_run_data_is_fresh_per_secret(package):
    """Fresh sequences per secret (deterministic for one); the held-out set stays outside."""
    one, again, two = prepare_run(package, 1), prepare_run(package, 1), prepare_run(package, 2)
    assert set(one.data) == {"adding_train_x", "adding_train_y"}
    assert set(one.held) == {"adding_held_x", "adding_held_y"}
    assert one.data["adding_train_x"].shape == (4000, 10, 2)
    assert one.data["adding_train_y"].shape == (4000,)
    assert one.held["adding_held_x"].shape == (1000, 10, 2)
    for name in one.data:
        assert np.array_equal(one.data[name], again.data[name])
        assert not np.array_equal(one.data[name], two.data[name])
    # Nothing is shipped statically any more.
    assert not package.folder("hidden/data") and not package.folder("hidden/labels")


def test_run_variant_is_not_the_public_task(package):
    """The plain closed form (sum of the values at the two marked steps) does not fit a run."""
    for secret in range(6):
        run = prepare_run(package, secret)
        x, y = run.held["adding_held_x"], run.held["adding_held_y"]
        for value, marker in ((0, 1), (1, 0)):
            guess = (x[..., value] * (x[..., marker] > 0.5)).sum(axis=1)
            assert np.mean((guess - y) ** 2) > 0.02  # twice the threshold at least


def test_trusted_forward_matches_the_solution_predict(checks):
    """checks.regressor_predict is RNNRegressor.predict (the handout's model) for any H."""
    with submitted(PACKAGE / "solution", FILES):
        model_mod = importlib.import_module("sequence_model")
        for hidden in (1, 7, 32):
            model = model_mod.RNNRegressor(2, hidden, np.random.default_rng(hidden))
            x = np.random.default_rng(0).standard_normal((9, 10, 2))
            np.testing.assert_allclose(
                checks.regressor_predict(model.params, x), model.predict(x), rtol=1e-12, atol=1e-12
            )


# ---------------------------------------------------------------------- solution, starter


@pytest.mark.parametrize("secret", SECRETS)
def test_solution_passes(solution_params, secret):
    out = solution_params[secret]
    assert set(out) == set(KEYS)
    ok, feedback = judge(PACKAGE, CASE, out, secret=secret)
    assert ok, feedback
    assert "held-out MSE" in feedback


def test_starter_fails(tmp_path):
    with pytest.raises(NotImplementedError):
        run_case(PACKAGE, PACKAGE / "starter", CASE, seed=SEED, secret=1, tmp_path=tmp_path)
    ok, feedback = judge(PACKAGE, CASE, {}, secret=1)
    assert not ok and "W_hh is missing" in feedback


# ------------------------------------------------------------------------------- attacks


def test_weights_trained_offline_on_the_public_task_fail(offline_model, checks, package):
    """Weights trained at home on the public adding task, pasted in as constants, fail."""
    plain_x, plain_y = _plain_adding(1000, np.random.default_rng(9))
    offline_mse = np.mean((checks.regressor_predict(offline_model, plain_x) - plain_y) ** 2)
    assert offline_mse < 0.01  # they are good weights, for the public task
    for secret in OTHER_SECRETS:
        ok, feedback = judge(PACKAGE, CASE, offline_model, secret=secret)
        assert not ok, f"pasted offline weights pass secret {secret}: {feedback}"


def test_weights_from_one_run_fail_in_others(solution_params):
    """Weights learned in one run (a leaked or replayed output) fail the other runs."""
    source = solution_params[SECRETS[0]]
    for secret in OTHER_SECRETS:
        ok, feedback = judge(PACKAGE, CASE, source, secret=secret)
        assert not ok, f"weights of run {SECRETS[0]} pass run {secret}: {feedback}"


def test_offline_recurrence_with_a_refitted_read_out_rarely_passes(offline_model, package):
    """Beyond pasting: offline recurrent weights plus a least-squares read-out fitted on the
    run's training data (no BPTT needed). The run's secret input map makes the pasted
    recurrence useless unless it happens to be close to the identity: measured over 400
    secrets, 5 runs in 400 pass (about 1%), so at most one of 24 may pass here."""
    passed = []
    for secret in range(100, 124):
        run = prepare_run(package, secret)
        x, y = run.data["adding_train_x"], run.data["adding_train_y"]
        p = offline_model
        h = np.zeros((len(x), p["W_hh"].shape[0]))
        for t in range(x.shape[1]):
            h = np.tanh(x[:, t] @ p["W_ih"].T + p["b_ih"] + h @ p["W_hh"].T + p["b_hh"])
        coef, *_ = np.linalg.lstsq(np.c_[h, np.ones(len(h))], y, rcond=None)
        pasted = dict(p, W_out=coef[None, :-1], b_out=coef[-1:])
        if judge(PACKAGE, CASE, pasted, secret=secret)[0]:
            passed.append(secret)
    assert len(passed) <= 1, passed


# A sequence_model.py that does not train: train_regressor returns an untrained model whose
# predict recovers this run's variant of the task in closed form from the training data (the
# unmarked steps lie on a line through the origin: its direction gives the value axis, the
# distance from it the markers; least squares gives the target's weights). The old grader
# scored predict's output; the new one never calls predict.
CLOSED_FORM = textwrap.dedent(
    """
    import numpy as np


    class RNNRegressor:
        def __init__(self, input_dim, hidden_dim, rng):
            b = 1.0 / np.sqrt(hidden_dim)
            shapes = {"W_ih": (hidden_dim, input_dim), "W_hh": (hidden_dim, hidden_dim),
                      "b_ih": (hidden_dim,), "b_hh": (hidden_dim,), "W_out": (1, hidden_dim),
                      "b_out": (1,)}
            self.params = {k: rng.uniform(-b, b, s) for k, s in shapes.items()}
            self.axis, self.normal, self.weights = np.array([1.0, 0.0]), np.array([0.0, 1.0]), None

        def _features(self, x):
            half = x.shape[1] // 2
            along, off = x @ self.axis, np.abs(x @ self.normal)
            rows = np.arange(len(x))
            first = along[rows, off[:, :half].argmax(axis=1)]
            second = along[rows, half + off[:, half:].argmax(axis=1)]
            return np.stack([first, second, np.ones(len(x))], axis=1)

        def predict(self, x):
            return self._features(x) @ self.weights

        def loss_and_grads(self, x, y):
            raise NotImplementedError


    def train_regressor(x, y, rng):
        model = RNNRegressor(x.shape[2], 32, rng)
        steps = x.reshape(-1, 2)
        angles = np.mod(np.arctan2(steps[:, 1], steps[:, 0]), np.pi)
        counts, edges = np.histogram(angles, bins=720, range=(0.0, np.pi))
        peak = np.abs(angles - edges[counts.argmax()] - np.pi / 1440) < np.pi / 720
        axis = np.linalg.svd(steps[peak], full_matrices=False)[2][0]
        model.axis, model.normal = axis, np.array([-axis[1], axis[0]])
        model.weights = np.linalg.lstsq(model._features(x), y, rcond=None)[0]
        return model
    """
)


def test_closed_form_predict_without_training_fails(tmp_path, package):
    """A perfect closed-form predict scores nothing: the worker runs the returned weights."""
    files = tmp_path / "closed_form"
    shutil.copytree(PACKAGE / "solution", files)
    (files / "sequence_model.py").write_text(CLOSED_FORM)
    for secret in SECRETS[:2]:
        out = run_case(PACKAGE, files, CASE, seed=SEED, secret=secret, tmp_path=tmp_path)
        # The attack's predict really is right on this run's held-out data ...
        held = prepare_run(package, secret).held
        with submitted(files, FILES):
            model_mod = importlib.import_module("sequence_model")
            run = prepare_run(package, secret).data
            model = model_mod.train_regressor(
                run["adding_train_x"], run["adding_train_y"], np.random.default_rng(0)
            )
            assert (
                np.mean((model.predict(held["adding_held_x"]) - held["adding_held_y"]) ** 2) < 1e-6
            )
        # ... and still fails: its params were never trained.
        ok, feedback = judge(PACKAGE, CASE, out, secret=secret)
        assert not ok and "held-out MSE" in feedback, feedback


def _malformed(good: dict) -> dict[str, tuple[dict, str]]:
    H = good["W_hh"].shape[0]
    return {
        "wrong shape": (
            dict(good, W_out=good["W_out"].T),
            f"W_out has shape ({H}, 1), expected (1, {H})",
        ),
        "input dim": (
            dict(good, W_ih=np.zeros((H, 3))),
            f"W_ih has shape ({H}, 3), expected ({H}, 2)",
        ),
        "nan": (dict(good, b_hh=np.full(H, np.nan)), "b_hh contains NaN"),
        "inf": (dict(good, W_out=np.full((1, H), -np.inf)), "W_out contains NaN or infinite"),
        "missing": ({k: v for k, v in good.items() if k != "b_out"}, "b_out is missing"),
        "no W_hh": ({k: v for k, v in good.items() if k != "W_hh"}, "W_hh is missing"),
        "non-square": (dict(good, W_hh=np.zeros((H, H + 1))), "expected (H, H)"),
        "too big": (dict(good, W_hh=np.zeros((300, 300))), "1 <= H <= 256"),
        "scalar W_hh": (dict(good, W_hh=np.float64(1.0)), "W_hh has shape ()"),
        "text": (dict(good, b_ih=np.array(["x"] * H)), "b_ih is not a numeric array"),
        "overflow": (
            dict(good, W_out=np.full((1, H), 1e308), b_out=np.array([1e308])),
            "non-finite",
        ),
    }


def test_malformed_outputs_fail_with_clear_feedback(solution_params):
    """Wrong shapes, NaN, inf, missing keys, absurd sizes: a failed case that says why."""
    good = solution_params[SECRETS[0]]
    for what, (outputs, expected) in _malformed(good).items():
        ok, feedback = judge(PACKAGE, CASE, outputs, secret=SECRETS[0])
        assert not ok, what
        assert expected in feedback, (what, feedback)
        assert "could not evaluate" not in feedback, (what, feedback)


def test_other_hidden_sizes_are_accepted(package, checks):
    """hidden_dim is the student's choice: a small trained model is judged like any other."""
    with submitted(PACKAGE / "solution", FILES):
        model_mod = importlib.import_module("sequence_model")
        run = prepare_run(package, SECRETS[0]).data
        model = model_mod.train_regressor(
            run["adding_train_x"],
            run["adding_train_y"],
            np.random.default_rng(3),
            hidden_dim=8,
            steps=300,
        )
    ok, feedback = judge(PACKAGE, CASE, model.params, secret=SECRETS[0])
    assert "held-out MSE" in feedback and "cannot be evaluated" not in feedback


# ------------------------------------------------------------------------------ the suite


def test_every_case_runs_where_torch_is_not_importable():
    """The whole suite, training included, runs in the "numpy" environment, without torch."""
    assert "ran 20" in run_without_torch(PACKAGE)


def teardown_module() -> None:
    for name in FILES:
        sys.modules.pop(name, None)
