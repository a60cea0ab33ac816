"""Correct optimizers submissions written differently from the solution score full marks, and
float32 arithmetic (which the handout rules out) loses points, on every seed.

tests/assignments/alternatives/optimizers/<name>/ holds one correct submission (a file it lacks
comes from solution/): separate_classes (no base class, buffers updated in place, Adam with
explicit m_hat and v_hat), paper_forms (Adam's step size from Kingma & Ba, moving averages as
a += (1 - b)(x - a), recursive schedules, rng.shuffle), torch_oracle (torch.optim itself).
Each is graded in this process (assignments/optimizers/tools/localgrade.py: casekit, judged
like the worker) on 5 seeds. A suite that rejects one of them has a case or a tolerance too
strict; one that passes float32 has a tolerance too loose (STAFF.md, "Tolerances").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assignments.optimizers.tools.localgrade import LocalGrader, score
from assignments.optimizers.tools.tolerances import float32_variant

ALTERNATIVES = Path(__file__).resolve().parent / "alternatives" / "optimizers"
NAMES = sorted(p.name for p in ALTERNATIVES.iterdir() if p.is_dir())
SEEDS = (1, 2, 3, 4, 5)


@pytest.fixture(scope="module")
def grader() -> Iterator[LocalGrader]:
    with LocalGrader() as local:
        yield local


def test_there_are_at_least_three_alternatives() -> None:
    assert len(NAMES) >= 3, NAMES


@pytest.mark.parametrize("name", NAMES)
def test_alternative_scores_full_marks_on_every_seed(grader: LocalGrader, name: str) -> None:
    if name == "torch_oracle":
        pytest.importorskip("torch")
    for seed in SEEDS:
        results = grader.grade(ALTERNATIVES / name, seed)
        lost = {case: r.feedback for case, r in results.items() if not r.passed}
        assert not lost, (name, seed, lost)
        assert score(results) == grader.max_score


def test_float32_arithmetic_loses_points_on_every_seed(grader: LocalGrader, tmp_path: Path):
    """The solution computing every update in float32: the optimizer cases reject it."""
    folder = float32_variant(tmp_path / "float32")
    optimizer_cases = [s.name for s in grader.specs if s.check == "allclose"]
    optimizer_cases.remove("lr_schedules")  # plain Python floats: nothing in float32
    for seed in SEEDS:
        results = grader.grade(folder, seed, optimizer_cases)
        passed = [case for case, r in results.items() if r.passed]
        assert not passed, (seed, passed)
