"""Correct backprop submissions written differently score full marks on every seed: the hidden
suite rejects bugs, not styles.

The alternatives (tests/assignments/alternatives/backprop/<name>/layers.py, mlp.py) use loops
instead of vectorised code, einsum and other closed forms (sigmoid through tanh or softplus,
log-sum-exp, np.logaddexp, rebinding net.params in train()). Each is graded in this process
with the hidden cases, judged like the worker against the solution's outputs for the same draw
(assignments/backprop/tools/inprocess.py over tests/assignments/casekit.py), on five seeds. The
solution itself goes through Docker in test_selfcheck.py; tools/tolerances.py prints how much
of each tolerance the alternatives use (about 1e-3 at most).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tests.assignments.casekit import load_file

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "assignments" / "backprop" / "tools"
ALTERNATIVES = Path(__file__).resolve().parent / "alternatives" / "backprop"
NAMES = sorted(p.name for p in ALTERNATIVES.iterdir() if (p / "mlp.py").is_file())
SEEDS = (101, 202, 303, 404, 505)


@pytest.fixture(scope="module")
def inprocess() -> ModuleType:
    return load_file("_backprop_inprocess", TOOLS / "inprocess.py")


@pytest.fixture(scope="module")
def suite(inprocess: ModuleType):
    return inprocess.Suite()


def test_there_are_at_least_three_alternatives() -> None:
    assert len(NAMES) >= 3, NAMES
    for name in NAMES:
        assert {p.name for p in (ALTERNATIVES / name).glob("*.py")} == {"layers.py", "mlp.py"}


@pytest.mark.parametrize("seed", SEEDS)
def test_alternatives_score_full_marks(suite, seed: int) -> None:
    """Every case passes for every alternative on this seed's draw (digits split included)."""
    with np.errstate(all="ignore"):
        report = suite.grade({name: ALTERNATIVES / name for name in NAMES}, seed)
    lost = {
        name: {v.case: v.feedback for v in verdicts if not v.ok}
        for name, verdicts in report.items()
    }
    assert lost == {name: {} for name in NAMES}, f"seed {seed}: {lost}"
    for verdicts in report.values():
        assert sum(v.points for v in verdicts) == suite.config.max_score == 100
