"""Staff checks for assignments/backprop: the solution is PyTorch's autograd, the public tests bite.

torch is the oracle here (float64, CPU); students never see it. The hidden cases compare a
submission with the solution, so the solution matching torch is what makes them right.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch  # the oracle (requirements-dev), float64 on CPU
import torch.nn.functional as F

from grader.package import load_package
from tests.assignments.casekit import load_file

PACKAGE = Path(__file__).resolve().parents[2] / "assignments" / "backprop"
SEEDS = (0, 1, 2)
RTOL, ATOL = 1e-10, 1e-12


@pytest.fixture(scope="module")
def sol() -> SimpleNamespace:
    """The solution's layers.py and mlp.py names in one namespace (sol.linear_forward, sol.MLP)."""
    layers = load_file("backprop_solution_layers", PACKAGE / "solution" / "layers.py")
    saved = sys.modules.get("layers")
    sys.modules["layers"] = layers  # what `from layers import ...` in mlp.py resolves to
    try:
        mlp = load_file("backprop_solution_mlp", PACKAGE / "solution" / "mlp.py")
    finally:
        if saved is None:
            del sys.modules["layers"]
        else:
            sys.modules["layers"] = saved
    public = {**vars(layers), **vars(mlp)}
    return SimpleNamespace(**{k: v for k, v in public.items() if not k.startswith("_")})


def _t(a, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _close(mine, theirs: torch.Tensor) -> None:
    np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_matches_autograd(sol: SimpleNamespace, seed: int) -> None:
    """out, dx, dW, db of the linear layer equal F.linear's on non-square shapes."""
    g = np.random.default_rng(seed)
    x, W, b = g.standard_normal((6, 5)), g.standard_normal((7, 5)), g.standard_normal(7)
    dout = g.standard_normal((6, 7))
    tx, tW, tb = _t(x, True), _t(W, True), _t(b, True)
    tout = F.linear(tx, tW, tb)
    tout.backward(_t(dout))
    out, cache = sol.linear_forward(x, W, b)
    dx, dW, db = sol.linear_backward(dout, cache)
    _close(out, tout)
    for mine, theirs in ((dx, tx), (dW, tW), (db, tb)):
        _close(mine, theirs.grad)


ACTIVATIONS = {
    "sigmoid": (lambda s, x: s.sigmoid_forward(x), "sigmoid_backward", torch.sigmoid),
    "tanh": (lambda s, x: s.tanh_forward(x), "tanh_backward", torch.tanh),
    "relu": (lambda s, x: s.relu_forward(x), "relu_backward", torch.relu),
    "leaky_relu": (
        lambda s, x: s.leaky_relu_forward(x, 0.2),
        "leaky_relu_backward",
        lambda t: F.leaky_relu(t, 0.2),
    ),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_match_autograd(sol: SimpleNamespace, name: str, seed: int) -> None:
    """Forward and backward, with exact zeros (the kinks) and +-1000 among the inputs."""
    forward, backward, oracle = ACTIVATIONS[name]
    g = np.random.default_rng(seed)
    x = 3 * g.standard_normal((5, 8))
    x[0, :4] = [0.0, -0.0, 1000.0, -1000.0]
    dout = g.standard_normal(x.shape)
    tx = _t(x, True)
    tout = oracle(tx)
    tout.backward(_t(dout))
    out, cache = forward(sol, x)
    _close(out, tout)
    _close(getattr(sol, backward)(dout, cache), tx.grad)


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_cross_entropy_matches_autograd(sol: SimpleNamespace, seed: int) -> None:
    """Mean CE and its gradient, including rows of logits as large as +-1000."""
    g = np.random.default_rng(seed)
    logits = 2 * g.standard_normal((6, 4))
    logits[0] = [1000.0, 0.0, -1000.0, 5.0]
    logits[1] += 900.0
    y = g.integers(0, 4, size=6)
    y[0] = 1
    tl = _t(logits, True)
    tloss = F.cross_entropy(tl, torch.tensor(y))
    tloss.backward()
    loss, dlogits = sol.softmax_cross_entropy(logits, y)
    assert isinstance(loss, float)
    assert loss == pytest.approx(tloss.item(), rel=RTOL)
    _close(dlogits, tl.grad)


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_cross_entropy_matches_autograd(sol: SimpleNamespace, seed: int) -> None:
    """BCE with soft targets, and at p = 0 and 1 (PyTorch's -100 clamp and 1e-12 floor)."""
    g = np.random.default_rng(seed)
    p = g.uniform(0.01, 0.99, size=(4, 5))
    y = g.uniform(0.0, 1.0, size=(4, 5))
    p[0] = [0.0, 1.0, 0.0, 1.0, 0.0]
    y[0] = [0.0, 1.0, 1.0, 0.0, 0.3]
    tp = _t(p, True)
    tloss = F.binary_cross_entropy(tp, _t(y))
    tloss.backward()
    loss, dp = sol.binary_cross_entropy(p, y)
    assert loss == pytest.approx(tloss.item(), rel=RTOL)
    _close(dp[1:], tp.grad[1:])
    # torch's floor is 1e-12 rounded to float32 (4e-9 off), hence the looser check at p = 0, 1
    np.testing.assert_allclose(dp[0], tp.grad[0].numpy(), rtol=1e-8)


@pytest.mark.parametrize("seed", SEEDS)
def test_bce_with_logits_matches_autograd(sol: SimpleNamespace, seed: int) -> None:
    """BCE-with-logits on moderate logits and on +-1000."""
    g = np.random.default_rng(seed)
    z = 3 * g.standard_normal((3, 6))
    z[0, :4] = [1000.0, -1000.0, 1000.0, -1000.0]
    y = g.uniform(0.0, 1.0, size=(3, 6))
    y[0, :4] = [0.0, 1.0, 1.0, 0.0]
    tz = _t(z, True)
    tloss = F.binary_cross_entropy_with_logits(tz, _t(y))
    tloss.backward()
    loss, dz = sol.bce_with_logits(z, y)
    assert loss == pytest.approx(tloss.item(), rel=RTOL)
    _close(dz, tz.grad)


@pytest.mark.parametrize("seed", SEEDS)
def test_mse_matches_autograd(sol: SimpleNamespace, seed: int) -> None:
    """MSE averages over all N * D elements."""
    g = np.random.default_rng(seed)
    pred, target = g.standard_normal((7, 3)), g.standard_normal((7, 3))
    tp = _t(pred, True)
    tloss = F.mse_loss(tp, _t(target))
    tloss.backward()
    loss, dpred = sol.mse_loss(pred, target)
    assert loss == pytest.approx(tloss.item(), rel=RTOL)
    _close(dpred, tp.grad)


TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.1),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("dims", "activations"),
    [([9, 11, 4], ["relu"]), ([6, 8, 7, 5, 3], ["tanh", "leaky_relu", "sigmoid"])],
    ids=["two_layer", "deep_mixed"],
)
def test_mlp_matches_autograd(sol: SimpleNamespace, dims, activations, seed: int) -> None:
    """Scores, dx and every parameter gradient of the MLP equal autograd's."""
    net = sol.MLP(dims, activations, negative_slope=0.1, rng=np.random.default_rng(seed))
    g = np.random.default_rng(100 + seed)
    for name in net.params:  # non-zero biases, so that db is not trivially the only signal
        net.params[name] = g.standard_normal(net.params[name].shape) / 2
    x, dout = g.standard_normal((5, dims[0])), g.standard_normal((5, dims[-1]))
    scores = net.forward(x)
    dx = net.backward(dout)
    tparams = {k: _t(v, True) for k, v in net.params.items()}
    tx = _t(x, True)
    h = tx
    for i in range(1, len(dims)):
        h = F.linear(h, tparams[f"W{i}"], tparams[f"b{i}"])
        if i < len(dims) - 1:
            h = TORCH_ACT[activations[i - 1]](h)
    h.backward(_t(dout))
    _close(scores, h)
    _close(dx, tx.grad)
    for name, tparam in tparams.items():
        _close(net.grads[name], tparam.grad)


def test_numerical_gradient_matches_autograd(sol: SimpleNamespace) -> None:
    """Central differences of a smooth function agree with autograd to O(h^2)."""
    g = np.random.default_rng(7)
    c, x = g.standard_normal((3, 4, 2)), g.standard_normal((3, 4, 2))
    tx = _t(x, True)
    (torch.sum(_t(c) * torch.sin(2 * tx)) + torch.sum(tx) ** 2).backward()
    before = x.copy()
    grad = sol.numerical_gradient(
        lambda z: float(np.sum(c * np.sin(2 * z)) + np.sum(z) ** 2), x, h=1e-5
    )
    np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_solution_preserves_float32_and_inputs(sol: SimpleNamespace) -> None:
    """float32 in, float32 out, and the inputs come back untouched."""
    g = np.random.default_rng(3)
    x = g.standard_normal((4, 6)).astype(np.float32)
    W, b = g.standard_normal((3, 6)).astype(np.float32), g.standard_normal(3).astype(np.float32)
    given = [a.copy() for a in (x, W, b)]
    out, cache = sol.linear_forward(*given)
    grads = sol.linear_backward(np.ones((4, 3), np.float32), cache)
    _, dlogits = sol.softmax_cross_entropy(out, np.array([0, 1, 2, 0]))
    _, dp = sol.binary_cross_entropy(np.clip(np.abs(x), 0.1, 0.9), np.zeros_like(x))
    assert {a.dtype for a in (out, *grads, dlogits, dp)} == {np.dtype(np.float32)}
    for original, passed in zip((x, W, b), given, strict=True):
        np.testing.assert_array_equal(original, passed)


def test_package_is_valid_and_keeps_labels_hidden() -> None:
    """The package loads, totals 100 points, and the digits are only in hidden/private (the
    per-run split is made on the worker by hidden/rundata.py: test_backprop_training.py)."""
    package = load_package(PACKAGE)
    config = package.config
    assert config.max_score == 100
    assert set(config.files) == {"layers.py", "mlp.py"}
    assert {"torch", "autograd", "scipy"} <= set(config.forbidden_imports)
    names = package.names()
    private = {"hidden/private/digits_x.npy", "hidden/private/digits_y.npy"}
    assert {"hidden/rundata.py", *private} <= set(names)
    assert not [n for n in names if n.startswith(("hidden/data/", "hidden/labels/"))]
    mutants = package.mutants()
    assert len(mutants) >= 25
    solution = package.solution_files()
    for name, files in mutants.items():
        assert files != solution, f"mutant {name} is identical to the solution"
    assert all(case.points > 0 for case in config.cases)


def test_handout_table_matches_the_suite() -> None:
    """README.md's grading table lists every case with its points, in the suite's order, and
    says how many cases there are."""
    config = load_package(PACKAGE).config
    handout = (PACKAGE / "README.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (\d+) \|", handout, flags=re.MULTILINE)
    assert [(name, int(points)) for name, points in rows] == [
        (case.name, case.points) for case in config.cases
    ]
    assert f"hidden suite of\n{len(config.cases)} independent cases" in handout


def test_staff_notes_trace_every_case_and_mutant() -> None:
    """STAFF.md (never shipped) names every case and every mutant it traces."""
    package = load_package(PACKAGE)
    staff = (PACKAGE / "STAFF.md").read_text()
    for name in [case.name for case in package.config.cases] + sorted(package.mutants()):
        assert f"`{name}`" in staff, name
    assert "STAFF.md" not in {n.rsplit("/", 1)[-1] for n in _shipped(package)}


def _shipped(package) -> list[str]:
    """Names of the files in the student download."""
    with zipfile.ZipFile(io.BytesIO(package.student_download())) as download:
        return download.namelist()
