"""optimizers' two training cases are judged on the learned weights, on held-out digits.

In process (tests/assignments/casekit.py, no Docker): hidden/rundata.py draws a per-run split,
pixel order and label order from the run's secret; train_digits_adam and train_digits_sgd
train softmax regression on the training split with the submitted optimizers and return W and
b; hidden/checks.py evaluates them on the held-out split. The solution passes for 24 secrets
(the margins are printed: `pytest -s`); the starter fails; weights trained offline on the
public digits, untrained weights and malformed outputs fail, the last with a message rather
than an exception. assignments/optimizers/tools/margin.py prints the margins with timings.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from grader.package import load_package
from grader.rundata import load_trusted, prepare_run
from tests.assignments.casekit import judge, run_case

PACKAGE = Path(__file__).resolve().parents[2] / "assignments" / "optimizers"
CASES = ("train_digits_adam", "train_digits_sgd")
ADAM_MIN_ACCURACY, SGD_MAX_CROSS_ENTROPY = 0.9, 0.4
SECRETS = tuple(0x5EC2E7_0000 + i for i in range(24))
SECRET = SECRETS[0]


@pytest.fixture(scope="module")
def checks():
    package = load_package(PACKAGE)
    return load_trusted(package.read("hidden/checks.py"), "hidden/checks.py", "_test_checks")


@pytest.fixture(scope="module")
def public_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as anyone can load them: pixels 0..16 (1797, 64), labels 0..9."""
    digits = load_digits()
    return digits.data.astype(np.uint8), digits.target.astype(np.int64)


def _metrics(W: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of softmax(x / 16 @ W + b) against y."""
    logits = x / 16.0 @ W + b
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(np.mean(logits.argmax(1) == y)), float(-np.mean(log_probs[np.arange(len(y)), y]))


def _submission(tmp_path: Path, name: str, optim_tail: str) -> Path:
    """The solution's three files, with `optim_tail` appended to optim.py (it overrides)."""
    folder = tmp_path / name
    folder.mkdir()
    for fname in ("schedule.py", "minibatch.py"):
        shutil.copy(PACKAGE / "solution" / fname, folder / fname)
    source = (PACKAGE / "solution" / "optim.py").read_text()
    (folder / "optim.py").write_text(source + "\n\n" + optim_tail)
    return folder


def _overriding_step(body: str) -> str:
    """Adam and SGD whose step() runs `body` (with `self`, `grads`) instead of their update."""
    lines = "\n".join("        " + line for line in body.splitlines())
    return (
        "class _Override:\n"
        "    def step(self, grads):\n"
        f"{lines}\n\n\n"
        "class Adam(_Override, Adam):\n    pass\n\n\n"
        "class SGD(_Override, SGD):\n    pass\n"
    )


def _graded(tmp_path: Path, folder: Path, case: str, secret: int = SECRET) -> tuple[bool, str]:
    out = run_case(PACKAGE, folder, case, seed=7, secret=secret, tmp_path=tmp_path)
    return judge(PACKAGE, case, out, secret=secret)


# ---------------------------------------------------------------- the package


def test_the_cases_are_judged_on_held_data_only(public_digits) -> None:
    package = load_package(PACKAGE)
    for case in CASES:
        spec = next(c for c in package.config.cases if c.name == case)
        assert (spec.check, spec.needs_reference, spec.labels) == ("custom", False, None)
        assert spec.visibility == "hidden"
    assert not [n for n in package.names() if n.startswith(("hidden/data/", "hidden/labels/"))]
    x, y = public_digits
    np.testing.assert_array_equal(np.load(PACKAGE / "hidden/private/digits_x.npy"), x)
    np.testing.assert_array_equal(np.load(PACKAGE / "hidden/private/digits_y.npy"), y)


def test_each_run_gets_a_fresh_permuted_split(public_digits) -> None:
    """The same digits, split, pixel-shuffled and relabelled differently for every secret."""
    package = load_package(PACKAGE)
    x, _ = public_digits
    a, b = (prepare_run(package, secret) for secret in SECRETS[:2])
    for run in (a, b):
        assert run.data["train_x"].shape == (1297, 64) and run.held["held_x"].shape == (500, 64)
        everything = np.concatenate([run.data["train_x"], run.held["held_x"]])
        assert sorted(map(bytes, np.sort(everything, axis=1))) == sorted(
            map(bytes, np.sort(x, axis=1))
        )
    assert not np.array_equal(a.held["held_x"], b.held["held_x"])
    # column j of a run is one original pixel; its mean over all digits names it
    means = [np.concatenate([r.data["train_x"], r.held["held_x"]]).mean(0) for r in (a, b)]
    assert not np.allclose(means[0], x.mean(0)) and not np.allclose(means[0], means[1])


# ---------------------------------------------------------------- the solution and the starter


def test_the_solution_passes_for_24_secrets(tmp_path: Path) -> None:
    package = load_package(PACKAGE)
    values: dict[str, list[float]] = {case: [] for case in CASES}
    for i, secret in enumerate(SECRETS):
        held = prepare_run(package, secret).held
        for case in CASES:
            out = run_case(
                PACKAGE, PACKAGE / "solution", case, seed=1000 + i, secret=secret, tmp_path=tmp_path
            )
            assert set(out) == {"W", "b"}
            ok, feedback = judge(PACKAGE, case, out, secret=secret)
            assert ok, (case, secret, feedback)
            accuracy, loss = _metrics(out["W"], out["b"], held["held_x"], held["held_y"])
            values[case].append(accuracy if case == "train_digits_adam" else loss)
    adam, sgd = values["train_digits_adam"], values["train_digits_sgd"]
    print(
        f"\nover {len(SECRETS)} secrets: train_digits_adam accuracy min {min(adam):.4f} max "
        f"{max(adam):.4f} (needs >= {ADAM_MIN_ACCURACY}); train_digits_sgd cross-entropy min "
        f"{min(sgd):.4f} max {max(sgd):.4f} (needs <= {SGD_MAX_CROSS_ENTROPY})"
    )
    assert min(adam) >= ADAM_MIN_ACCURACY + 0.02
    assert max(sgd) <= SGD_MAX_CROSS_ENTROPY - 0.1


@pytest.mark.parametrize("case", CASES)
def test_the_starter_fails(tmp_path: Path, case: str) -> None:
    with pytest.raises(NotImplementedError):
        run_case(PACKAGE, PACKAGE / "starter", case, seed=7, secret=SECRET, tmp_path=tmp_path)


@pytest.mark.parametrize("case", CASES)
def test_state_shared_between_params_still_fails(tmp_path: Path, case: str) -> None:
    """The one mutant the training cases killed before (with the unit cases) still fails them."""
    folder = tmp_path / "mutant"
    folder.mkdir()
    for name, data in load_package(PACKAGE).mutants()["state_shared_between_params"].items():
        (folder / name).write_bytes(data)
    try:
        with np.errstate(all="ignore"):
            ok, feedback = _graded(tmp_path, folder, case)
    except Exception as exc:  # noqa: BLE001 - the case errors: in the sandbox, no points either
        ok, feedback = False, repr(exc)
    assert not ok, feedback


# ---------------------------------------------------------------- attacks


@pytest.fixture(scope="module")
def offline_weights(public_digits) -> tuple[np.ndarray, np.ndarray]:
    """Softmax regression fitted offline on all the public digits (plain NumPy gradient descent
    from a least-squares start): what a student could paste instead of an optimizer."""
    x, y = public_digits
    xs = np.hstack([x / 16.0, np.ones((len(x), 1))])
    onehot = np.eye(10)[y]
    Wb = np.linalg.lstsq(xs, onehot, rcond=None)[0]
    for _ in range(300):
        logits = xs @ Wb
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        Wb -= 0.5 * xs.T @ (p - onehot) / len(x)
    return Wb[:64].copy(), Wb[64].copy()


def test_weights_trained_offline_and_pasted_fail(
    tmp_path: Path, checks, public_digits, offline_weights
) -> None:
    """They pass on the plain digits, and fail on every run's permuted held-out digits."""
    W, b = offline_weights
    x, y = public_digits
    plain = {"held_x": x, "held_y": y}
    accuracy, loss = _metrics(W, b, x, y)
    assert accuracy >= 0.95 and loss <= 0.3  # the attack works on plain digits ...
    for case in CASES:  # ... so a grader without the per-run permutations would pass it
        assert getattr(checks, case)({"W": W, "b": b}, {}, None, plain)[0]
    body = (
        f"self.params[0][...] = np.array({W.tolist()!r})\n"
        f"self.params[1][...] = np.array({b.tolist()!r})"
    )
    folder = _submission(tmp_path, "pasted", _overriding_step(body))
    for secret in SECRETS[:4]:
        for case in CASES:
            ok, feedback = _graded(tmp_path, folder, case, secret)
            assert not ok, (case, feedback)


@pytest.mark.parametrize(
    "name, body",
    [
        ("no_step", "pass"),
        ("zeros", "for p in self.params:\n    p[...] = 0.0"),
        ("one_class", "self.params[0][...] = 0.0\nself.params[1][...] = np.eye(10)[3] * 50"),
    ],
)
def test_weights_made_without_training_fail(tmp_path: Path, name: str, body: str) -> None:
    """A 'label table': weights that never look at the data earn nothing."""
    folder = _submission(tmp_path, name, _overriding_step(body))
    for case in CASES:
        ok, feedback = _graded(tmp_path, folder, case)
        assert not ok, (case, feedback)
        assert ("accuracy" if case == "train_digits_adam" else "cross-entropy") in feedback


@pytest.mark.parametrize("case", CASES)
def test_a_diverging_optimizer_fails_with_a_message(tmp_path: Path, case: str) -> None:
    body = "for p in self.params:\n    p[...] = np.nan"
    ok, feedback = _graded(tmp_path, _submission(tmp_path, "nan", _overriding_step(body)), case)
    assert not ok
    assert "contains NaN or infinity" in feedback and "could not evaluate" not in feedback


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    "outputs, message",
    [
        ({}, "no trained 'W' came back"),
        (
            {"W": np.zeros((10, 64)), "b": np.zeros(10)},
            "'W': expected shape (64, 10), got (10, 64)",
        ),
        (
            {"W": np.zeros((64, 10)), "b": np.zeros((1, 10))},
            "'b': expected shape (10,), got (1, 10)",
        ),
        ({"W": np.zeros((64, 10)), "b": np.array(["b"] * 10)}, "'b': expected numbers"),
        ({"W": np.full((64, 10), np.inf), "b": np.zeros(10)}, "contains NaN or infinity"),
    ],
)
def test_the_checks_never_raise_on_untrusted_outputs(case: str, outputs: dict, message: str):
    with np.errstate(all="raise"):
        ok, feedback = judge(PACKAGE, case, outputs, secret=SECRET)
    assert not ok
    assert message in feedback, feedback
    assert "could not evaluate" not in feedback


@pytest.mark.parametrize("case", CASES)
def test_overflowing_weights_fail_cleanly(case: str) -> None:
    """Finite weights so large that the logits overflow: a plain failure, no exception."""
    outputs = {"W": np.full((64, 10), 1e307), "b": np.full(10, -1e308)}
    with np.errstate(all="raise"):
        ok, feedback = judge(PACKAGE, case, outputs, secret=SECRET)
    assert not ok
    assert "overflowed" in feedback or "non-finite" in feedback, feedback
