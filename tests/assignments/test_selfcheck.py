"""Every built-in assignment passes its self-check through real containers: the reference scores
full marks, the starter 0, and every mutant loses points (kill rate 100%), on every seed.

One self-check per package and session, on DLGRADER_SELFCHECK_SEEDS fresh seeds (default 1 in
`make test`; `make selfcheck` runs 5) or the seeds DLGRADER_SELFCHECK_SEED lists ("11,12"):
the seeds are printed, so a failure can be replayed. Each seed's reference outputs are
computed once and every test of that package reads the same report.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.package import load_package
from grader.sandbox import DockerSandbox
from grader.selfcheck import SelfCheckReport, format_table, fresh_seeds, run_selfcheck, stages

pytestmark = pytest.mark.docker

ASSIGNMENTS = Path(__file__).resolve().parents[2] / "assignments"
SLUGS = sorted(p.parent.name for p in ASSIGNMENTS.glob("*/assignment.toml"))
LABEL = "dlgrader.test-selfcheck"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[DockerSandbox]:
    """One labelled sandbox for the module; no container may be left behind."""
    session = uuid.uuid4().hex
    box = DockerSandbox(labels={LABEL: session})
    box.check()
    yield box
    box.close()
    leftover = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={LABEL}={session}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    assert leftover == [], "self-check containers were not removed"


@pytest.fixture(scope="module")
def report(sandbox: DockerSandbox) -> Callable[[str], SelfCheckReport]:
    """The self-check of a built-in package, run once per module and shared by its tests."""
    reports: dict[str, SelfCheckReport] = {}

    def get(slug: str) -> SelfCheckReport:
        if slug not in reports:
            package = load_package(ASSIGNMENTS / slug)
            reports[slug] = run_selfcheck(package, sandbox, seeds=chosen_seeds())
            print(f"\n{slug}:\n{format_table(reports[slug])}")
        return reports[slug]

    return get


def chosen_seeds() -> tuple[int, ...]:
    listed = os.environ.get("DLGRADER_SELFCHECK_SEED", "").strip()
    if listed:
        return tuple(int(seed) for seed in listed.split(","))
    return fresh_seeds(int(os.environ.get("DLGRADER_SELFCHECK_SEEDS", "1")))


def test_there_are_four_built_in_assignments():
    assert SLUGS == ["backprop", "cnn", "optimizers", "rnn"]


@pytest.mark.parametrize("slug", SLUGS)
def test_reference_scores_full_marks(report, slug):
    checked = report(slug)
    assert checked.error == ""
    reference = checked.runs[0]
    assert reference.kind == "reference" and reference.ok, format_table(checked)
    assert reference.score == checked.max_score == 100


@pytest.mark.parametrize("slug", SLUGS)
def test_starter_scores_zero(report, slug):
    starter = report(slug).runs[1]
    assert starter.kind == "starter" and starter.score == 0, format_table(report(slug))


@pytest.mark.parametrize("slug", SLUGS)
def test_every_mutant_is_killed(report, slug):
    """At least ten realistic bugs per assignment, each losing points on some hidden case."""
    checked = report(slug)
    assert len(checked.mutants) >= 10
    survivors = [m.name for m in checked.mutants if not m.ok]
    assert survivors == [], format_table(checked)
    assert checked.kill_rate == 1.0 and checked.passed


def test_a_mutant_stops_at_the_first_environment_that_kills_it(report):
    """cnn runs in numpy and torch: a mutant that lost points in the numpy cases is not run in
    torch (the training cases are the slow ones); the LeNet mutants reach torch and die there."""
    checked = report("cnn")
    numpy_cases, torch_cases = stages(load_package(ASSIGNMENTS / "cnn"))
    reached_torch = set()
    for mutant in checked.mutants:
        lost = set(mutant.lost)
        assert not (lost & set(numpy_cases) and lost & set(torch_cases)), mutant
        if lost & set(torch_cases):
            reached_torch.add(mutant.name)
    assert reached_torch and all(name.startswith("lenet_") for name in reached_torch)
    assert checked.runs[1].kind == "starter" and set(checked.runs[1].lost) >= set(torch_cases)
