"""Staff checks for assignments/cnn: the solution is PyTorch's conv/pool, the public tests bite.

torch is the oracle here (float64, CPU, autograd); students never see it. The hidden cases
compare a submission with the solution, so the solution matching torch is what makes them right.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from casekit import judge, load_file, run_case

from grader.package import load_package
from grader.rundata import load_trusted

PACKAGE = Path(__file__).resolve().parents[2] / "assignments" / "cnn"
RTOL, ATOL = 1e-10, 1e-12
CONV_SETTINGS = [  # (x shape, w shape, stride, padding): non-square, asymmetric kernels
    ((2, 3, 7, 9), (4, 3, 3, 2), 1, 0),
    ((2, 3, 7, 9), (4, 3, 3, 2), 2, 1),
    ((1, 2, 11, 8), (3, 2, 2, 4), 3, 2),
    ((3, 1, 8, 10), (2, 1, 3, 3), 2, 0),
    ((2, 2, 5, 6), (3, 2, 5, 3), 1, 2),
    ((1, 4, 6, 6), (5, 4, 1, 1), 2, 0),
]
POOL_SETTINGS = [  # (kernel_size, stride, padding); None = the default stride
    (2, None, 0),
    (3, 2, 0),
    (3, 1, 1),
    (2, 3, 1),
    (3, 2, 1),
    (4, 2, 2),
]


@pytest.fixture(scope="module")
def sol() -> SimpleNamespace:
    """The solution's conv.py, pool.py and lenet.py, loaded under private module names."""
    files = ("conv", "pool", "lenet")
    return SimpleNamespace(
        **{f: load_file(f"cnn_solution_{f}", PACKAGE / "solution" / f"{f}.py") for f in files}
    )


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def _close(mine: np.ndarray, theirs: torch.Tensor) -> None:
    assert mine.shape == tuple(theirs.shape)
    np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "padding"), CONV_SETTINGS)
def test_conv2d_matches_autograd(sol, x_shape, w_shape, stride, padding) -> None:
    """out, dx, dw, db equal F.conv2d's and its autograd gradients."""
    g = np.random.default_rng(sum(x_shape) + stride + padding)
    x, w, b = g.standard_normal(x_shape), g.standard_normal(w_shape), g.standard_normal(w_shape[0])
    tx, tw, tb = _t(x), _t(w), _t(b)
    tout = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
    dout = g.standard_normal(tuple(tout.shape))
    tout.backward(torch.from_numpy(dout))
    out, cache = sol.conv.conv2d_forward(x, w, b, stride, padding)
    dx, dw, db = sol.conv.conv2d_backward(dout, cache)
    for mine, theirs in ((out, tout), (dx, tx.grad), (dw, tw.grad), (db, tb.grad)):
        _close(mine, theirs)


def test_conv_output_size_matches_torch_shapes(sol) -> None:
    """conv_output_size agrees with F.conv2d's output length, and refuses impossible kernels."""
    for size, kernel, stride, padding in itertools.product(
        range(1, 9), range(1, 6), (1, 2, 3), (0, 1, 2)
    ):
        if kernel > size + 2 * padding:
            with pytest.raises(ValueError):
                sol.conv.conv_output_size(size, kernel, stride, padding)
            continue
        out = F.conv2d(
            torch.zeros(1, 1, size, 1), torch.zeros(1, 1, kernel, 1), None, stride, (padding, 0)
        )
        assert sol.conv.conv_output_size(size, kernel, stride, padding) == out.shape[2]


@pytest.mark.parametrize(("kernel", "stride", "padding"), POOL_SETTINGS)
def test_maxpool_matches_autograd(sol, kernel, stride, padding) -> None:
    """out and dx equal F.max_pool2d's on continuous inputs (odd, non-square sizes)."""
    g = np.random.default_rng(kernel * 10 + padding)
    x = g.standard_normal((2, 3, 9, 7))
    tx = _t(x)
    tout = F.max_pool2d(tx, kernel, stride, padding)
    dout = g.standard_normal(tuple(tout.shape))
    tout.backward(torch.from_numpy(dout))
    out, cache = sol.pool.maxpool2d_forward(x, kernel, stride, padding)
    _close(out, tout)
    _close(sol.pool.maxpool2d_backward(dout, cache), tx.grad)


@pytest.mark.parametrize(("kernel", "stride"), [(2, None), (3, 2), (3, 1)])
def test_maxpool_tie_rule_matches_torch(sol, kernel, stride) -> None:
    """On inputs full of ties (values 0-2), the gradient goes where torch sends it: first max."""
    x = np.random.default_rng(kernel).integers(0, 3, size=(2, 2, 7, 8)).astype(np.float64)
    tx = _t(x)
    tout = F.max_pool2d(tx, kernel, stride)
    dout = np.arange(tout.numel(), dtype=np.float64).reshape(tuple(tout.shape)) + 1.0
    tout.backward(torch.from_numpy(dout))
    out, cache = sol.pool.maxpool2d_forward(x, kernel, stride)
    _close(sol.pool.maxpool2d_backward(dout, cache), tx.grad)


@pytest.mark.parametrize("include_pad", [True, False])
@pytest.mark.parametrize(("kernel", "stride", "padding"), POOL_SETTINGS)
def test_avgpool_matches_autograd(sol, kernel, stride, padding, include_pad) -> None:
    """out and dx equal F.avg_pool2d's, with count_include_pad on and off."""
    g = np.random.default_rng(kernel * 10 + padding)
    x = g.standard_normal((2, 3, 8, 11))
    tx = _t(x)
    tout = F.avg_pool2d(tx, kernel, stride, padding, count_include_pad=include_pad)
    dout = g.standard_normal(tuple(tout.shape))
    tout.backward(torch.from_numpy(dout))
    out, cache = sol.pool.avgpool2d_forward(x, kernel, stride, padding, include_pad)
    _close(out, tout)
    _close(sol.pool.avgpool2d_backward(dout, cache), tx.grad)


def test_reference_reaches_the_training_target(tmp_path) -> None:
    """The hidden train_digits case, run on the solution for one run's data, clears the
    threshold (judged on the worker's held-out digits; more secrets: test_cnn_training.py)."""
    ok, feedback = judge(
        PACKAGE,
        "train_digits",
        run_case(
            PACKAGE, PACKAGE / "solution", "train_digits", seed=2024, secret=5, tmp_path=tmp_path
        ),
        secret=5,
    )
    assert ok, feedback


def test_package_is_valid_and_keeps_labels_hidden() -> None:
    """The package loads, totals 100 points, torch is allowed in lenet.py only, and the digits
    (public data, labels included) are never shipped: they live in hidden/private/ only."""
    package = load_package(PACKAGE)
    config = package.config
    assert config.max_score == 100
    assert set(config.files) == {"conv.py", "pool.py", "lenet.py"}
    assert {"torch", "scipy", "sklearn"} <= set(config.forbidden_imports)
    assert config.allow_by_file == {"lenet.py": ("torch",)}
    shipped = [n for n in package.names() if n.startswith(("hidden/data/", "hidden/labels/"))]
    assert shipped == []
    assert set(package.folder("hidden/private")) == {"digits_x.npy", "digits_y.npy"}
    spec = next(c for c in config.cases if c.name == "train_digits")
    assert (spec.check, spec.needs_reference, spec.environment) == ("custom", False, "torch")
    assert all(c.points > 0 for c in config.cases), "every tested requirement is worth points"
    mutants = package.mutants()
    assert len(mutants) >= 25
    solution = package.solution_files()
    for name, files in mutants.items():
        assert files != solution, f"mutant {name} is identical to the solution"


def test_staff_notes_trace_every_case_and_mutant_and_stay_with_staff() -> None:
    """STAFF.md names every case and every mutant; students never download it (nor mutants,
    tools or the solution)."""
    package = load_package(PACKAGE)
    staff = (PACKAGE / "STAFF.md").read_text()
    for name in [c.name for c in package.config.cases] + list(package.mutants()):
        assert f"`{name}`" in staff, f"STAFF.md does not mention {name}"
    with zipfile.ZipFile(io.BytesIO(package.student_download())) as zf:
        shipped = zf.namelist()
    assert not [n for n in shipped if n.endswith("STAFF.md")]
    assert not [n for n in shipped if "/mutants/" in n or "/tools/" in n or "/solution/" in n]


def test_hidden_tie_windows_hold_every_tie_pattern_and_match_torch(sol) -> None:
    """maxpool_ties' 2x2 input: every window's maximum is tied, every tie pattern occurs, and
    the solution routes the gradient exactly as torch does (first maximum, row-major)."""
    cases = load_trusted(
        (PACKAGE / "hidden" / "cases.py").read_bytes(), "hidden/cases.py", "_cnn_ties"
    )
    g = np.random.default_rng(3)
    x = cases._tied_windows(g, (2, 3, 8, 10))
    windows = x.reshape(2, 3, 4, 2, 5, 2).transpose(0, 1, 2, 4, 3, 5).reshape(-1, 4)
    tied = windows == windows.max(axis=1, keepdims=True)
    assert tied.sum(axis=1).min() >= 2
    assert {tuple(m) for m in tied.astype(float)} == {tuple(m.ravel()) for m in cases.TIE_MASKS}
    tx = _t(x)
    tout = F.max_pool2d(tx, 2)
    dout = g.standard_normal(tuple(tout.shape))
    tout.backward(torch.from_numpy(dout))
    _, cache = sol.pool.maxpool2d_forward(x, 2)
    _close(sol.pool.maxpool2d_backward(dout, cache), tx.grad)
