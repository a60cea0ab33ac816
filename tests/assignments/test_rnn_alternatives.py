"""Correct rnn implementations written differently from the reference score full marks on every
seed: the tolerances and flags reject mistakes, not styles.

The fixtures under alternatives/rnn/ (a folder holds the files that differ from the solution,
like a mutant) use loops or vectorised code, other sigmoid formulas (logaddexp, tanh, a clipped
exp), other caches and other summation orders. Each is graded in-process, judged like the
worker (assignments/rnn/tools/suitekit.py), on the exact cases of several seeds; train_adding,
judged on held-out data rather than against the reference, is left to
`assignments/rnn/tools/kills.py --training` (seconds per run). The reference itself is checked
through Docker by test_selfcheck.py and against PyTorch by test_rnn_reference.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.assignments.casekit import load_file

TOOLS = Path(__file__).resolve().parents[2] / "assignments" / "rnn" / "tools"
SEEDS = range(100, 106)
HEADROOM = 1e-2  # every output within 1% of its tolerance: far from a false reject


kit = load_file("_rnn_suitekit", TOOLS / "suitekit.py")
ALTERNATIVES = kit.alternative_dirs()


@pytest.fixture(scope="module")
def suite():
    s = kit.Suite()
    yield s
    s.close()


def test_there_are_at_least_three_alternatives():
    assert len(ALTERNATIVES) >= 3, sorted(ALTERNATIVES)


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_alternative_scores_full_marks_on_every_seed(suite, name, tmp_path):
    """Full marks on every seed, and every output far inside its tolerance."""
    impl = kit.overlay(ALTERNATIVES[name].glob("*.py"), tmp_path / name)
    for seed in SEEDS:
        graded = suite.grade(impl, seed)
        lost = {case: graded.feedback[case] for case, ok in graded.passed.items() if not ok}
        assert not lost, f"seed {seed}: {lost}"
        assert graded.score == suite.max_score
        tight = {case: r for case, r in graded.ratio.items() if r > HEADROOM}
        assert not tight, f"seed {seed}: close to the tolerance: {tight}"
