"""The self-check's verdict: reference full marks, starter zero, every mutant below full marks;
the kill rate; the problems it names; the report's JSON round trip and its text table."""

from __future__ import annotations

import json

import pytest

from grader.selfcheck import (
    MUTANT,
    REFERENCE,
    STARTER,
    RunReport,
    SelfCheckReport,
    format_table,
    lost_text,
)


def run(kind: str, score: float, name: str | None = None, lost: tuple[str, ...] = ()) -> RunReport:
    return RunReport(name or kind, kind, (score,), 10.0, lost, 1.25)


def report(*runs: RunReport, error: str = "") -> SelfCheckReport:
    return SelfCheckReport("toy", "ab" * 32, 10.0, runs, error, 3.5)


GOOD = (run(REFERENCE, 10), run(STARTER, 0, lost=("a", "b")), run(MUTANT, 7, "off_by_one", ("a",)))


@pytest.mark.parametrize(
    ("kind", "score", "ok"),
    [
        (REFERENCE, 10, True),
        (REFERENCE, 9.5, False),
        (REFERENCE, 10 - 1e-12, True),  # float sums of case points
        (STARTER, 0, True),
        (STARTER, 1, False),
        (MUTANT, 9.99, True),
        (MUTANT, 0, True),
        (MUTANT, 10, False),
    ],
)
def test_each_kind_has_its_rule(kind, score, ok):
    """Reference must be full, starter zero, a mutant anything below full."""
    assert run(kind, score).ok is ok
    assert (run(kind, score).why == "") is ok


def test_a_good_package_passes_with_full_kill_rate():
    checked = report(*GOOD)
    assert checked.passed
    assert checked.kill_rate == 1.0
    assert checked.problems() == []


def test_a_surviving_mutant_fails_the_check_and_lowers_the_kill_rate():
    checked = report(*GOOD, run(MUTANT, 10, "no_effect"))
    assert not checked.passed
    assert checked.kill_rate == 0.5
    assert checked.problems() == ["mutant no_effect scores full marks: no case catches it"]


def test_reference_below_full_and_starter_above_zero_are_named():
    checked = report(run(REFERENCE, 8), run(STARTER, 2))
    assert not checked.passed
    assert checked.problems() == [
        "the reference solution must score full marks, got 8 of 10",
        "the starter must score 0, got 2 of 10",
    ]


def test_no_mutants_passes_with_no_kill_rate():
    """Mutants are optional: the rules hold vacuously and the kill rate is undefined."""
    checked = report(run(REFERENCE, 10), run(STARTER, 0))
    assert checked.passed and checked.kill_rate is None
    assert "n/a" in checked.kill_rate_text()


def test_an_error_fails_the_check_whatever_the_runs():
    checked = report(*GOOD, error="the reference solution fails case 'a': raised")
    assert not checked.passed
    assert checked.problems() == ["the reference solution fails case 'a': raised"]


def test_missing_reference_or_starter_run_fails():
    checked = report(run(REFERENCE, 10))
    assert not checked.passed and checked.problems() == ["no starter run"]


def test_report_survives_a_json_round_trip():
    """What the database stores (to_dict) reads back as an equal report."""
    checked = report(*GOOD)
    again = SelfCheckReport.from_dict(json.loads(json.dumps(checked.to_dict())))
    assert again == checked and again.runs[2].lost == ("a",)


def test_table_lists_every_run_the_kill_rate_and_the_verdict():
    text = format_table(report(*GOOD, run(MUTANT, 10, "no_effect")))
    lines = text.splitlines()
    assert lines[0].split() == [
        "implementation",
        "score",
        "max",
        "result",
        "lost",
        "cases",
        "seconds",
    ]
    assert lines[1].split() == ["reference", "10", "10", "ok", "-", "1.2"]
    assert lines[2].split()[:4] == ["starter", "0", "10", "ok"]
    assert "all 2 cases" in lines[2]
    assert lines[3].split() == ["mutants/off_by_one", "7", "10", "killed", "a", "1.2"]
    assert lines[4].split()[3] == "SURVIVED"
    assert "kill rate: 1/2 = 50%" in text
    assert "self-check FAILED" in text and "mutants/" not in lines[-1]
    assert lines[-1].strip() == "- mutant no_effect scores full marks: no case catches it"


def test_long_lists_of_lost_cases_are_shortened():
    many = tuple(f"case{i}" for i in range(9))
    assert lost_text(run(MUTANT, 1, lost=many)).endswith("(+3 more)")
    assert lost_text(run(MUTANT, 9)) == "-"


def seeded(kind: str, scores: tuple[float, ...], name: str | None = None) -> RunReport:
    return RunReport(name or kind, kind, scores, 10.0, (), 1.0)


def test_a_mutant_caught_on_some_seeds_only_survives():
    """Killed on four draws of five is a lottery for students: it counts as survived."""
    lucky = seeded(MUTANT, (7, 7, 10, 7, 7), "eps_placement")
    assert not lucky.ok and lucky.broken_on == 1
    assert lucky.result == "SURVIVED on 1 of 5 seeds"
    checked = report(seeded(REFERENCE, (10,) * 5), seeded(STARTER, (0,) * 5), lucky)
    assert not checked.passed and checked.kill_rate == 0.0
    assert checked.problems() == [
        "mutant eps_placement scores full marks on 1 of 5 seeds: no case catches it"
    ]


def test_reference_and_starter_must_hold_on_every_seed():
    reference, starter = seeded(REFERENCE, (10, 10, 9)), seeded(STARTER, (0, 1, 0))
    assert (reference.ok, reference.score, starter.ok, starter.score) == (False, 9, False, 1)
    assert (
        reference.why == "the reference solution must score full marks, got 9 of 10 on 1 of 3 seeds"
    )


def test_the_table_shows_score_ranges_and_the_seeds_to_replay():
    checked = SelfCheckReport(
        "toy", "ab" * 32, 10.0,
        (seeded(REFERENCE, (10, 10)), seeded(STARTER, (0, 0)), seeded(MUTANT, (3, 7), "m")),
        "", 4.0, seeds=(11, 12),
    )  # fmt: skip
    text = format_table(checked)
    assert text.splitlines()[3].split()[:4] == ["mutants/m", "3-7", "10", "killed"]
    assert "on 2 seeds" in text and "seeds (replay with --seed): 11, 12" in text
    assert SelfCheckReport.from_dict(json.loads(json.dumps(checked.to_dict()))) == checked


def test_a_report_stored_before_seeds_reads_back():
    old = {"slug": "toy", "sha256": "ab", "max_score": 10.0, "error": "", "seconds": 1.0,
           "runs": [{"name": "reference", "kind": REFERENCE, "score": 10.0, "max_score": 10.0,
                     "lost": [], "seconds": 1.0}]}  # fmt: skip
    (run_,) = SelfCheckReport.from_dict(old).runs
    assert run_.scores == (10.0,) and run_.ok
