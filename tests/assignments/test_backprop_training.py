"""backprop's train_digits is judged on what was learned, on held-out digits the sandbox never sees.

In process (tests/assignments/casekit.py, no Docker): hidden/rundata.py draws a per-run split,
pixel order and label order from the run's secret; the case trains on the training split and
returns net.params; hidden/checks.py runs its own forward pass on the held-out split. The
solution passes for 24 secrets (the margin is printed: `pytest -s`); the starter fails;
parameters trained offline on the public digits, untrained parameters and malformed outputs
fail, the last with a message rather than an exception; the mutants the case used to kill
still fail it. assignments/backprop/tools/margin.py prints the same margin with timings.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from grader.package import load_package
from grader.rundata import load_trusted, prepare_run
from tests.assignments.casekit import judge, run_case, submitted

PACKAGE = Path(__file__).resolve().parents[2] / "assignments" / "backprop"
CASE = "train_digits"
MIN_ACCURACY = 0.9
SECRETS = tuple(0x5EC2E7_0000 + i for i in range(24))
SECRET = SECRETS[0]
SHAPES = {"W1": (64, 64), "b1": (64,), "W2": (10, 64), "b2": (10,)}
# The mutants train_digits killed before it was judged on held-out data (sgd_ascent only there).
TRAINING_MUTANTS = (
    "ce_grad_missing_n",
    "linear_dW_transposed",
    "mlp_grads_accumulate",
    "mlp_stale_cache",
    "sgd_ascent",
)


@pytest.fixture(scope="module")
def checks():
    package = load_package(PACKAGE)
    return load_trusted(package.read("hidden/checks.py"), "hidden/checks.py", "_test_checks")


@pytest.fixture(scope="module")
def public_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as anyone can load them: pixels 0..16 (1797, 64), labels 0..9."""
    digits = load_digits()
    return digits.data.astype(np.uint8), digits.target.astype(np.int64)


def _accuracy(checks, params: dict, x: np.ndarray, y: np.ndarray) -> float:
    scores = checks.mlp_scores({k: np.asarray(v, np.float64) for k, v in params.items()}, x / 16.0)
    return float(np.mean(scores.argmax(axis=1) == y))


def _submission(tmp_path: Path, name: str, mlp_tail: str) -> Path:
    """The solution's layers.py and mlp.py, with `mlp_tail` appended to mlp.py (it overrides)."""
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(PACKAGE / "solution" / "layers.py", folder / "layers.py")
    source = (PACKAGE / "solution" / "mlp.py").read_text()
    (folder / "mlp.py").write_text(source + "\n\n" + mlp_tail)
    return folder


def _pasting_train(params: dict) -> str:
    """A train() that ignores its data and writes fixed parameters into the network."""
    constants = {name: np.asarray(value).tolist() for name, value in params.items()}
    return (
        f"_PASTED = {constants!r}\n\n\n"
        "def train(net, x, y, epochs, lr, batch_size, rng):\n"
        "    for name, value in _PASTED.items():\n"
        "        net.params[name] = np.array(value, dtype=np.float64)\n"
        "    return [0.0] * epochs\n"
    )


def _graded(tmp_path: Path, folder: Path, secret: int = SECRET) -> tuple[bool, str]:
    out = run_case(PACKAGE, folder, CASE, seed=7, secret=secret, tmp_path=tmp_path)
    return judge(PACKAGE, CASE, out, secret=secret)


# ---------------------------------------------------------------- the package


def test_the_case_is_judged_on_held_data_only(public_digits) -> None:
    """custom check, no reference run; the digits live in hidden/private only."""
    package = load_package(PACKAGE)
    spec = next(c for c in package.config.cases if c.name == CASE)
    assert (spec.check, spec.needs_reference, spec.labels) == ("custom", False, None)
    assert spec.visibility == "hidden"
    names = package.names()
    assert not [n for n in names if n.startswith(("hidden/data/", "hidden/labels/"))]
    x, y = public_digits
    np.testing.assert_array_equal(np.load(PACKAGE / "hidden/private/digits_x.npy"), x)
    np.testing.assert_array_equal(np.load(PACKAGE / "hidden/private/digits_y.npy"), y)


def _traceable_digits(which: str) -> np.ndarray:
    """Stand-ins for hidden/private: pixel 0 and 1 spell the image's index, pixel j >= 2 is j,
    and image i has label i % 10, so the split and both permutations can be read back."""
    if which == "digits_y.npy":
        return np.arange(1797, dtype=np.int64) % 10
    x = np.tile(np.arange(64, dtype=np.uint8), (1797, 1))
    x[:, 0], x[:, 1] = np.arange(1797) % 256, np.arange(1797) // 256
    return x


def _read_back(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of each image, where each original pixel went) from _traceable_digits images."""
    varying = np.flatnonzero((images != images[0]).any(axis=0))
    where = np.empty(64, np.int64)
    constant = np.setdiff1d(np.arange(64), varying)
    where[images[0, constant]] = constant
    low, high = varying if images[:, varying[1]].max() <= 7 else varying[::-1]
    where[0], where[1] = low, high
    index = images[:, where[0]].astype(np.int64) + 256 * images[:, where[1]].astype(np.int64)
    return index, where


def test_each_run_gets_a_fresh_split_pixel_order_and_label_order(public_digits) -> None:
    """1297 training and 500 held-out digits, disjoint; pixels and labels renamed, per secret."""
    package = load_package(PACKAGE)
    rundata = load_trusted(package.read("hidden/rundata.py"), "hidden/rundata.py", "_test_rd")
    seen = []
    for secret in SECRETS[:3]:
        data, held = rundata.prepare(np.random.default_rng(secret), _traceable_digits)
        assert set(data) == {"train_x", "train_y"} and set(held) == {"held_x", "held_y"}
        train, where = _read_back(data["train_x"])
        test, where_held = _read_back(held["held_x"])
        assert (len(train), len(test)) == (1297, 500)
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(1797))
        assert np.array_equal(where, where_held) and not np.array_equal(where, np.arange(64))
        relabel = np.full(10, -1)
        relabel[train % 10] = data["train_y"]
        assert np.array_equal(relabel[test % 10], held["held_y"])  # one renaming per run
        assert np.array_equal(relabel[train % 10], data["train_y"])
        assert sorted(relabel) == list(range(10)) and not np.array_equal(relabel, np.arange(10))
        seen.append((tuple(test), tuple(where), tuple(relabel)))
    for part in range(3):
        assert len({s[part] for s in seen}) == 3  # nothing repeats across secrets
    # and on the real digits: the same images, only rearranged; deterministic in the secret
    x, _ = public_digits
    run = prepare_run(package, SECRET)
    everything = np.concatenate([run.data["train_x"], run.held["held_x"]])
    assert sorted(map(bytes, np.sort(everything, axis=1))) == sorted(map(bytes, np.sort(x, axis=1)))
    np.testing.assert_array_equal(prepare_run(package, SECRET).held["held_x"], run.held["held_x"])


# ---------------------------------------------------------------- the solution and the starter


def test_the_solution_passes_for_24_secrets(tmp_path: Path, checks) -> None:
    accuracies = []
    for i, secret in enumerate(SECRETS):
        out = run_case(
            PACKAGE, PACKAGE / "solution", CASE, seed=1000 + i, secret=secret, tmp_path=tmp_path
        )
        assert set(out) == set(SHAPES)
        ok, feedback = judge(PACKAGE, CASE, out, secret=secret)
        assert ok, feedback
        held = prepare_run(load_package(PACKAGE), secret).held
        accuracies.append(_accuracy(checks, out, held["held_x"], held["held_y"]))
    print(
        f"\n{CASE}: held-out accuracy over {len(SECRETS)} secrets: min {min(accuracies):.4f}, "
        f"max {max(accuracies):.4f} (needs {MIN_ACCURACY})"
    )
    assert min(accuracies) >= MIN_ACCURACY + 0.02  # a margin, not a coin toss


def test_the_starter_fails(tmp_path: Path) -> None:
    with pytest.raises(NotImplementedError):
        run_case(PACKAGE, PACKAGE / "starter", CASE, seed=7, secret=SECRET, tmp_path=tmp_path)


@pytest.mark.parametrize("mutant", TRAINING_MUTANTS)
def test_mutants_that_break_training_fail(tmp_path: Path, mutant: str) -> None:
    folder = tmp_path / mutant
    folder.mkdir()
    for name, data in load_package(PACKAGE).mutants()[mutant].items():
        (folder / name).write_bytes(data)
    try:
        with np.errstate(all="ignore"):
            ok, feedback = _graded(tmp_path, folder)
    except Exception as exc:  # noqa: BLE001 - the case errors: in the sandbox, no points either
        ok, feedback = False, repr(exc)
    assert not ok, feedback


# ---------------------------------------------------------------- attacks


@pytest.fixture(scope="module")
def offline_params(public_digits) -> dict:
    """An MLP([64, 64, 10]) trained with the solution's own code on all the public digits."""
    x, y = public_digits
    names = ["layers", "mlp"]
    with submitted(PACKAGE / "solution", names):
        mlp = importlib.import_module("mlp")
        net = mlp.MLP([64, 64, 10], "relu", rng=np.random.default_rng(0))
        mlp.train(net, x / 16.0, y, epochs=40, lr=0.1, batch_size=32, rng=np.random.default_rng(1))
        return {k: v.copy() for k, v in net.params.items()}


def test_parameters_trained_offline_and_pasted_fail(
    tmp_path: Path, checks, public_digits, offline_params
) -> None:
    """They read the public digits perfectly, and this run's permuted held-out digits not at all."""
    x, y = public_digits
    assert _accuracy(checks, offline_params, x, y) >= 0.98  # the attack works on plain digits
    ok, _ = checks.train_digits(offline_params, {}, None, {"held_x": x, "held_y": y})
    assert ok  # so a grader without the per-run permutations would have given full marks
    folder = _submission(tmp_path, "pasted", _pasting_train(offline_params))
    for secret in SECRETS[:4]:
        ok, feedback = _graded(tmp_path, folder, secret)
        assert not ok, feedback
        assert "accuracy" in feedback


def test_parameters_pasted_without_training_fail(tmp_path: Path) -> None:
    """A 'label table': parameters made without looking at the data (always the same class,
    or the untouched initialisation) earn nothing."""
    constant = {
        "W1": np.zeros((64, 64)),
        "b1": np.zeros(64),
        "W2": np.zeros((10, 64)),
        "b2": np.eye(10)[3],
    }
    tails = {
        "constant_class": _pasting_train(constant),
        "no_training": "def train(net, x, y, epochs, lr, batch_size, rng):\n    return [0.0]\n",
    }
    for name, tail in tails.items():
        ok, feedback = _graded(tmp_path, _submission(tmp_path, name, tail))
        assert not ok, (name, feedback)
        assert "accuracy" in feedback and "needs at least 0.9" in feedback


BROKEN_TRAIN = {
    "transposed_W2": (
        "net.params['W2'] = net.params['W2'].T",
        "'W2': expected shape (10, 64), got (64, 10)",
    ),
    "nan": ("net.params['W1'] = np.full((64, 64), np.nan)", "'W1' contains NaN or infinity"),
    "inf_bias": ("net.params['b2'] = np.full(10, np.inf)", "'b2' contains NaN or infinity"),
    "missing": ("del net.params['b2']", "no trained 'b2' came back"),
    "strings": ("net.params['b1'] = np.array(['x'] * 64)", "no trained 'b1' came back"),
    "not_a_dict": ("net.params = None", "no trained 'W1' came back"),
}


@pytest.mark.parametrize("name", sorted(BROKEN_TRAIN))
def test_malformed_parameters_fail_with_a_message(tmp_path: Path, name: str) -> None:
    statement, message = BROKEN_TRAIN[name]
    tail = (
        "_train_ok = train\n\n\n"
        "def train(net, x, y, epochs, lr, batch_size, rng):\n"
        "    history = _train_ok(net, x, y, epochs, lr, batch_size, rng)\n"
        f"    {statement}\n"
        "    return history\n"
    )
    ok, feedback = _graded(tmp_path, _submission(tmp_path, name, tail))
    assert not ok
    assert message in feedback
    assert "could not evaluate" not in feedback


@pytest.mark.parametrize(
    "outputs, message",
    [
        ({}, "no trained 'W1' came back"),
        (
            {**{k: np.zeros(s) for k, s in SHAPES.items()}, "W1": np.zeros((64, 65))},
            "'W1': expected shape (64, 64), got (64, 65)",
        ),
        (
            {**{k: np.zeros(s) for k, s in SHAPES.items()}, "b2": np.float64(1.0)},
            "'b2': expected shape (10,), got ()",
        ),
        (
            {
                **{k: np.zeros(s) for k, s in SHAPES.items()},
                "W2": np.array(["a"] * 640).reshape(10, 64),
            },
            "'W2': expected numbers",
        ),
        ({**{k: np.full(s, 1e300) for k, s in SHAPES.items()}}, "overflowed"),
    ],
)
def test_the_check_never_raises_on_untrusted_outputs(outputs: dict, message: str) -> None:
    with np.errstate(all="raise"):  # the check must silence its own overflow
        ok, feedback = judge(PACKAGE, CASE, outputs, secret=SECRET)
    assert not ok
    assert message in feedback, feedback
    assert "could not evaluate" not in feedback
