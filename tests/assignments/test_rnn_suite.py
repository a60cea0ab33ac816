"""The rnn suite catches every mutant on every seed, each bug class by the case built for it.

In-process and judged like the worker (assignments/rnn/tools/suitekit.py: the grader's Judge,
its forbidden-import rule), on a few fixed seeds; `assignments/rnn/tools/kills.py --seeds 20`
does the same on many and prints the margins, and test_selfcheck.py runs the real sandbox.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.assignments.casekit import load_file

TOOLS = Path(__file__).resolve().parents[2] / "assignments" / "rnn" / "tools"
SEEDS = (3, 4, 5)


kit = load_file("_rnn_suitekit", TOOLS / "suitekit.py")
MUTANTS = kit.mutants()

# The bug classes the handout rules out but older suites missed, and the case made to catch
# each of them on every draw (the feedback names the output or flag that gave it away).
CAUGHT_BY = {
    "sigmoid_naive_overflow": ("sigmoid_stability", "sigmoid_warned_nothing"),
    "sigmoid_where_both_branches": ("sigmoid_stability", "sigmoid_warned_nothing"),
    "gru_inline_naive_sigmoid": ("sigmoid_stability", "gru_warned_nothing"),
    "rnn_forward_h_all_float32": ("float64_compute", "all_float64_arrays"),
    "bptt_float32_accumulators": ("float64_compute", ""),
    "lstm_float32_compute": ("float64_compute", "lstm_"),
    "clip_rebinds_entries": ("clip_grad_norm_above", ""),
    "clip_norm_as_array": ("clip_grad_norm_above", "total_norm"),
    "bptt_modifies_dh_all": ("inputs_unchanged", "rnn_sequence_leaves_inputs"),
    "bptt_truncated_20": ("rnn_backward_long", ""),
    "bptt_truncated_chunks": ("rnn_backward_long", ""),
    "hidden_state_not_reset": ("regressor_predict", "pred_second"),
    "init_global_numpy_random": ("regressor_params", "same_seed_same_params"),
    "clip_always_rescales": ("clip_grad_norm_below", ""),
    "clip_per_parameter": ("clip_grad_norm_above", ""),
    "clip_without_epsilon": ("clip_grad_norm_above", ""),
}


@pytest.fixture(scope="module")
def suite():
    s = kit.Suite()
    yield s
    s.close()


def test_there_are_at_least_25_mutants():
    assert len(MUTANTS) >= 25, sorted(MUTANTS)
    assert set(CAUGHT_BY) <= set(MUTANTS)


def test_points_add_up_to_100_and_every_case_is_worth_points(suite):
    cases = suite.package.config.cases
    assert suite.package.config.max_score == 100
    assert all(c.points > 0 for c in cases), [c.name for c in cases if c.points <= 0]


@pytest.mark.parametrize("mutant", sorted(CAUGHT_BY))
def test_each_bug_class_is_caught_by_its_case_on_every_seed(suite, mutant, tmp_path):
    case, output = CAUGHT_BY[mutant]
    impl = kit.lay_out(MUTANTS[mutant], tmp_path / mutant)
    for seed in SEEDS:
        graded = suite.grade(impl, seed, only=[case])
        assert not graded.passed[case], f"{mutant} passes {case} on seed {seed}"
        assert output in graded.feedback[case], graded.feedback[case]


def test_every_mutant_loses_points_on_every_seed(suite, tmp_path):
    """The cheapest proof: cases in order until one fails, per mutant and seed."""
    survivors = []
    names = [s.name for s in suite.specs]
    for mutant, files in MUTANTS.items():
        impl = kit.lay_out(files, tmp_path / mutant)
        for seed in SEEDS:
            if all(suite.grade(impl, seed, only=[n]).passed[n] for n in names):
                survivors.append((mutant, seed))
    assert survivors == []
