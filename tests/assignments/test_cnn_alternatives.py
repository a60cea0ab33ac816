"""Correct cnn solutions written differently from the reference get full marks on every seed.

tests/assignments/alternatives/cnn/<name>/ holds the files an alternative replaces (loops: the
first-attempt style with explicit loops; einsum: window views, einsum, a transposed-convolution
dx and np.add.at; im2col: cs231n-style index arrays, plus a lenet.py with modules, a DataLoader
and SGD). Each is graded in-process like a mutant (assignments/cnn/tools/killmatrix.py, built on
casekit): solution/ with its files on top. A case whose files are all the solution's (the NumPy
cases read conv.py and pool.py, the torch cases lenet.py) is the reference's by construction
and counted as passed without running it: so train_digits runs only for im2col, the one
alternative with its own lenet.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

PACKAGE = Path(__file__).resolve().parents[2] / "assignments" / "cnn"
sys.path.insert(0, str(PACKAGE / "tools"))

from killmatrix import Runner, differs, lost_cases, overlay, reference_outputs  # noqa: E402

from grader.package import load_package  # noqa: E402

ALTERNATIVES = Path(__file__).resolve().parent / "alternatives" / "cnn"
NAMES = sorted(p.name for p in ALTERNATIVES.iterdir() if p.is_dir())
SEEDS = (101, 202, 303, 404, 505)  # suite seed = run secret, as killmatrix.py draws them


@pytest.fixture(scope="module")
def runner(tmp_path_factory) -> Runner:
    torch.set_num_threads(1)
    return Runner(load_package(PACKAGE), tmp_path_factory.mktemp("cnn-alternatives"))


@pytest.fixture(scope="module")
def reference(runner) -> dict[int, dict]:
    """The solution's outputs for every seed (computed once for all alternatives)."""
    return reference_outputs(runner, list(SEEDS))


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_there_are_at_least_three_alternatives_and_they_differ():
    """Three or more alternatives, each replacing conv.py and pool.py with its own code."""
    assert len(NAMES) >= 3
    for name in NAMES:
        for file in ("conv.py", "pool.py"):
            mine = (ALTERNATIVES / name / file).read_bytes()
            assert mine != (PACKAGE / "solution" / file).read_bytes(), (name, file)


@pytest.mark.parametrize("name", NAMES)
def test_alternative_scores_full_marks_on_every_seed(runner, reference, tmp_path, name):
    """No case, on any seed, takes a point from a correct alternative."""
    files = overlay(tmp_path, ALTERNATIVES / name)
    ran = [spec.name for spec in runner.specs if differs(files, spec)]
    assert "cnn_chain" in ran
    for seed in SEEDS:
        lost = lost_cases(runner, files, seed, reference)
        assert lost == [], f"{name} loses {lost} on seed {seed}"
