"""cnn's train_digits, judged outside on per-run data (in-process, tests/assignments/casekit.py).

The sandbox gets only the run's training split, transformed by secrets drawn per run (split,
label permutation, orientation); the case returns LeNetSmall's weights and hidden/checks.py
scores them on held-out digits kept on the worker. The solution passes for several secrets; the
starter, the training mutants, weights trained offline and pasted in, and malformed outputs
fail, with feedback rather than an exception. The 24-secret margin is
assignments/cnn/tools/margin.py.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from casekit import judge, load_file, run_case, run_without_torch

from grader.package import load_package
from grader.rundata import load_trusted, prepare_run

PACKAGE = Path(__file__).resolve().parents[2] / "assignments" / "cnn"
sys.path.insert(0, str(PACKAGE / "tools"))

from killmatrix import (  # noqa: E402
    Runner,
    lost_cases,
    mutant_folder,
    reference_outputs,
    write_files,
)

CASE = "train_digits"
SEED = 2024
SECRETS = (11, 12, 13)  # the solution must pass each (margin over 24: tools/margin.py)


@pytest.fixture(scope="module")
def package():
    return load_package(PACKAGE)


@pytest.fixture(scope="module")
def checks(package):
    return load_trusted(package.read("hidden/checks.py"), "hidden/checks.py", "_cnn_checks")


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def solution_weights(tmp_path_factory) -> dict[int, dict]:
    """The solution's train_digits outputs for each secret in SECRETS (trained once)."""
    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("cnn-solution")
    return {
        s: run_case(PACKAGE, PACKAGE / "solution", CASE, seed=SEED, secret=s, tmp_path=tmp)
        for s in SECRETS
    }


def _solution_lenet():
    return load_file("cnn_sol_lenet", PACKAGE / "solution" / "lenet.py")


def _private(name: str) -> np.ndarray:
    return np.load(PACKAGE / "hidden" / "private" / name, allow_pickle=False)


def _public_offline_weights() -> dict[str, np.ndarray]:
    """What a student can do at home: train the solution on all of sklearn's digits, in their
    natural orientation and labels (the held-out images included), and keep the weights."""
    x, y = _private("digits_x.npy"), _private("digits_y.npy")
    model = _solution_lenet().train_lenet(x, y, device="cpu", seed=3)
    return {k: v.detach().double().numpy() for k, v in model.state_dict().items()}


# ------------------------------------------------------------------------------- the data


def test_run_data_is_fresh_per_secret_and_keeps_held_out_apart(package):
    """Each secret gives its own split, labels and orientation; held-out never enters."""
    runs = {s: prepare_run(package, s) for s in (1, 2)}
    again = prepare_run(package, 1)
    assert set(runs[1].data) == {"digits_train_x", "digits_train_y"}
    assert set(runs[1].held) == {"digits_held_x", "digits_held_y"}
    for name, array in runs[1].data.items():  # deterministic for a secret
        assert np.array_equal(array, again.data[name])
    x, y = runs[1].data["digits_train_x"], runs[1].data["digits_train_y"]
    hx, hy = runs[1].held["digits_held_x"], runs[1].held["digits_held_y"]
    assert x.shape == (1297, 1, 8, 8) and x.dtype == np.float32 and y.shape == (1297,)
    assert hx.shape == (500, 1, 8, 8) and np.array_equal(np.bincount(hy), np.full(10, 50))
    assert np.all(np.diff(y) >= 0), "training data comes sorted by label"
    train_rows = {row.tobytes() for row in x.reshape(len(x), -1)}
    overlap = sum(row.tobytes() in train_rows for row in hx.reshape(len(hx), -1))
    assert overlap <= 5, "held-out images are not in the training split (bar sklearn duplicates)"
    other = runs[2].held["digits_held_x"]
    assert not np.array_equal(np.sort(hx.ravel()), np.sort(other.ravel())) or not np.array_equal(
        hy, runs[2].held["digits_held_y"]
    )
    # Nothing of the digits is shipped statically: no hidden/data, no hidden/labels.
    assert not package.folder("hidden/data") and not package.folder("hidden/labels")


def test_run_labels_and_orientation_vary(package):
    """Over a few secrets the orientation of a given digit and its class number change."""
    rundata = load_trusted(package.read("hidden/rundata.py"), "hidden/rundata.py", "_cnn_rd")
    first_image, first_label = _private("digits_x.npy")[:1], int(_private("digits_y.npy")[0])
    seen = set()
    for secret in range(8):
        run = prepare_run(package, secret)
        x = np.concatenate([run.data["digits_train_x"], run.held["digits_held_x"]])
        y = np.concatenate([run.data["digits_train_y"], run.held["digits_held_y"]])
        for k in range(8):
            flat = rundata.dihedral(first_image, k).reshape(1, -1)
            hit = np.flatnonzero((x.reshape(len(x), -1) == flat).all(axis=1))
            if hit.size:
                seen.add((k, int(y[hit[0]])))
                break
    assert len({k for k, _ in seen}) >= 3, seen
    assert len({label for _, label in seen} - {first_label}) >= 3, seen


def test_trusted_forward_matches_the_solution_model(checks):
    """checks.lenet_logits is LeNetSmall's forward pass (torch, float64) on the same weights."""
    torch.manual_seed(5)
    model = _solution_lenet().LeNetSmall().double().eval()
    x = np.random.default_rng(5).random((7, 1, 8, 8))
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    params = {k: v.numpy() for k, v in model.state_dict().items()}
    np.testing.assert_allclose(checks.lenet_logits(params, x), expected, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- solution, starter


@pytest.mark.parametrize("secret", SECRETS)
def test_solution_passes(solution_weights, checks, secret):
    """The returned weights are the handout's state_dict, and they clear the threshold."""
    out = solution_weights[secret]
    assert {k: v.shape for k, v in out.items()} == checks.SHAPES
    ok, feedback = judge(PACKAGE, CASE, out, secret=secret)
    assert ok, feedback
    assert "held-out accuracy" in feedback


def test_starter_fails(tmp_path):
    """The starter raises in train_lenet (the case errors), and nothing returned passes."""
    with pytest.raises(NotImplementedError):
        run_case(PACKAGE, PACKAGE / "starter", CASE, seed=SEED, secret=1, tmp_path=tmp_path)
    ok, feedback = judge(PACKAGE, CASE, {}, secret=1)
    assert not ok and "conv1.weight is missing" in feedback


@pytest.mark.parametrize("name", ["lenet_no_shuffle", "lenet_tiny_lr"])
def test_training_mutants_fail(tmp_path, name):
    """The two mutants that only train_digits can catch are caught (two secrets each)."""
    for secret in SECRETS[:2]:
        files = mutant_folder(tmp_path, name)
        out = run_case(PACKAGE, files, CASE, seed=SEED, secret=secret, tmp_path=tmp_path)
        ok, feedback = judge(PACKAGE, CASE, out, secret=secret)
        assert not ok, f"{name} passes for secret {secret}: {feedback}"


# ------------------------------------------------------------------------------- attacks


def test_weights_trained_offline_on_public_digits_fail():
    """The natural digits, all 1797 with their real labels, trained offline and pasted in as a
    constant submission: the per-run permutation and orientation make them worthless."""
    pasted = _public_offline_weights()
    for secret in range(6):
        ok, feedback = judge(PACKAGE, CASE, pasted, secret=secret)
        assert not ok, f"pasted offline weights pass for secret {secret}: {feedback}"


def test_weights_from_one_run_fail_in_others(solution_weights):
    """Weights learned in one run (a leaked or replayed output) fail the other runs."""
    source = SECRETS[0]
    for secret in (s for s in range(8) if s != source):
        ok, feedback = judge(PACKAGE, CASE, solution_weights[source], secret=secret)
        assert not ok, f"weights of run {source} pass run {secret}: {feedback}"


def _malformed(good: dict) -> dict[str, tuple[dict, str]]:
    wrong_shape = dict(good, **{"fc2.weight": good["fc2.weight"].T})
    nan = dict(good, **{"conv2.bias": np.full(16, np.nan)})
    inf = dict(good, **{"fc1.weight": np.full((32, 64), np.inf)})
    missing = {k: v for k, v in good.items() if k != "fc1.bias"}
    text = dict(good, **{"conv1.bias": np.array(["a"] * 6)})
    huge = {k: np.full(v.shape, 1e300) for k, v in good.items()}
    return {
        "wrong shape": (wrong_shape, "fc2.weight has shape (32, 10), expected (10, 32)"),
        "nan": (nan, "conv2.bias contains NaN"),
        "inf": (inf, "fc1.weight contains NaN or infinite"),
        "missing": (missing, "fc1.bias is missing"),
        "not numeric": (text, "conv1.bias is not a numeric array"),
        "overflowing": (huge, "held-out accuracy"),
        "scalar": ({k: np.float64(1.0) for k in good}, "has shape ()"),
    }


def test_malformed_outputs_fail_with_clear_feedback(solution_weights):
    """Wrong shapes, NaN, inf, missing keys, non-numbers: a failed case that says why."""
    good = solution_weights[SECRETS[0]]
    for what, (outputs, expected) in _malformed(good).items():
        ok, feedback = judge(PACKAGE, CASE, outputs, secret=SECRETS[0])
        assert not ok, what
        assert expected in feedback, (what, feedback)
        assert "could not evaluate" not in feedback, (what, feedback)


def test_feedback_reveals_no_held_out_data(solution_weights, package):
    """The only number in the feedback is the accuracy (and the set's size)."""
    ok, feedback = judge(PACKAGE, CASE, solution_weights[SECRETS[0]], secret=SECRETS[0])
    held = prepare_run(package, SECRETS[0]).held
    assert ok
    assert str(held["digits_held_y"][:5].tolist()) not in feedback
    assert len(feedback) < 200


# ------------------------------------------------------------------------------- mutants


KILL_SEEDS = (SEED, 7)  # assignments/cnn/tools/killmatrix.py checks 20 seeds (STAFF.md)


def test_every_mutant_is_killed_and_only_training_mutants_need_the_training_case(tmp_path, package):
    """On each seed, each mutant loses a case other than train_digits, except the two that
    only train_digits catches (tools/killmatrix.py: cases whose files are the solution's are
    skipped, they score as the reference does)."""
    runner = Runner(package, tmp_path)
    runner.specs = [c for c in package.config.cases if c.name != CASE]
    reference = reference_outputs(runner, list(KILL_SEEDS))
    needs_training = set()
    for mutant, mutant_files in package.mutants().items():
        files = write_files(tmp_path, mutant, mutant_files)
        for seed in KILL_SEEDS:
            if not lost_cases(runner, files, seed, reference):
                needs_training.add(mutant)
    assert needs_training == {"lenet_no_shuffle", "lenet_tiny_lr"}


# --------------------------------------------------------------------------- environments


def test_numpy_cases_never_need_torch(package):
    """Every case in the "numpy" environment imports only conv.py and pool.py; the LeNet cases
    run in "torch"."""
    envs = {c.name: c.environment for c in package.config.cases}
    assert {n for n, e in envs.items() if e == "torch"} == {
        "lenet_forward",
        "train_reproducible",
        CASE,
    }
    source = package.read("hidden/cases.py").decode()
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and envs.get(node.name) == "numpy":
            text = ast.unparse(node)
            assert "torch" not in text and '"lenet"' not in text, node.name
    top_imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert all("torch" not in ast.unparse(n) for n in top_imports)


def test_numpy_cases_run_where_torch_is_not_importable():
    """conv.py, pool.py and every case of the "numpy" environment work without torch."""
    assert "ran 19" in run_without_torch(PACKAGE)
