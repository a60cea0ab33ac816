"""optimizers' hidden cases catch each bug by construction, not by luck of the draw.

The self-check (Docker) grades every mutant on 5 seeds. The mutants below are the ones a
careless input would catch only on some draws, or not at all (STAFF.md, "Mutants by class"):
eps placement and eps defaults need entries with tiny gradients, AMSGrad's running max needs a
second moment that falls, an aliased momentum buffer needs gradient arrays the caller refills,
rebinding list items needs a case that reads its own arrays, float32 arithmetic needs a tight
tolerance. Each must fail the case built for it on 10 seeds beyond the self-check's, graded in
this process (assignments/optimizers/tools/localgrade.py) like the worker.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assignments.optimizers.tools.localgrade import LocalGrader

SEEDS = range(1, 11)
CAUGHT_BY = {  # mutant -> the case built to catch it
    "adam_eps_inside_sqrt": "adam",
    "adam_eps_default_keras": "adam",
    "rmsprop_eps_inside_sqrt": "rmsprop",
    "amsgrad_max_over_vhat": "amsgrad",
    "amsgrad_overwrites_exp_avg_sq": "amsgrad",
    "adamw_ignores_amsgrad": "adamw",
    "sgd_momentum_buffer_aliases_grad": "sgd_momentum_dampening",
    "sgd_params_rebound_in_list": "sgd_basic",
    "adagrad_weight_decay_modifies_grad": "adagrad",
    "adagrad_sum_created_at_first_step": "adagrad",
    "adam_float32_moments": "adam",
    "grads_cast_to_float32": "sgd_momentum_dampening",
    "rmsprop_default_alpha_keras": "defaults",
    "state_class_attribute": "state_independence",
    "minibatch_rng_none_crashes": "minibatches",
}


@pytest.fixture(scope="module")
def grader() -> Iterator[LocalGrader]:
    with LocalGrader() as local:
        yield local


def test_every_listed_mutant_exists(grader: LocalGrader) -> None:
    mutants = set(grader.package.mutants())
    assert set(CAUGHT_BY) <= mutants, set(CAUGHT_BY) - mutants
    assert len(mutants) >= 25


@pytest.mark.parametrize(("mutant", "case"), CAUGHT_BY.items(), ids=list(CAUGHT_BY))
def test_the_case_built_for_it_catches_it_on_every_seed(
    grader: LocalGrader, mutant: str, case: str
) -> None:
    folder = grader.mutant(mutant)
    passed_on = [seed for seed in SEEDS if grader.grade(folder, seed, [case])[case].passed]
    assert not passed_on, f"{mutant} passes {case} on seeds {passed_on}"
