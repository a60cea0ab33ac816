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
    return RunReport(name or kind, kind, score, 10.0, lost, 1.25)


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
