"""`flask assignments check` and `sync --check` through the real grader and Docker, on the small
batchnorm package (tests/fixtures/batchnorm: a reference, a starter and three mutants)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from webapp.extensions import db
from webapp.models import Assignment, SelfCheckStatus

pytestmark = pytest.mark.docker

BATCHNORM = Path(__file__).resolve().parents[1] / "fixtures" / "batchnorm"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SELFCHECK_SEEDS": 2}  # every rule on two draws; 5 in production


def test_check_replays_the_seeds_it_is_given(runner):
    result = runner.invoke(args=["assignments", "check", str(BATCHNORM), "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "self-check PASSED on 1 seed " in result.output
    assert "seeds (replay with --seed): 7" in result.output


def with_survivor(root: Path, slug: str = "batchnorm") -> Path:
    """A copy of the batchnorm package under `root` with a 'mutant' identical to the solution
    (no case can catch it), renamed to `slug`."""
    folder = root / slug
    shutil.copytree(BATCHNORM, folder)
    (folder / "mutants" / "no_op").mkdir()
    shutil.copy(folder / "solution" / "batchnorm.py", folder / "mutants" / "no_op")
    toml = folder / "assignment.toml"
    toml.write_text(toml.read_text().replace('slug = "batchnorm"', f'slug = "{slug}"'))
    return folder


def test_check_of_a_good_folder_prints_the_table_and_passes(runner, app):
    """Reference full, starter 0, every mutant killed: exit 0 and a 100% kill rate."""
    result = runner.invoke(args=["assignments", "check", str(BATCHNORM)])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines() if line}
    assert rows["reference"][1:4] == ["10", "10", "ok"]
    assert rows["starter"][1:4] == ["0", "10", "ok"]
    for mutant in ("backward_no_mean_terms", "momentum_swapped", "unbiased_variance"):
        assert rows[f"mutants/{mutant}"][3] == "killed"
    assert "momentum_swapped        8      10   killed  running_stats" in result.output
    assert "kill rate: 3/3 = 100%" in result.output
    assert "self-check PASSED on 2 seeds" in result.output
    with app.app_context():
        assert Assignment.by_slug("batchnorm") is None  # a folder check stores nothing


def test_check_fails_when_a_mutant_survives(runner, tmp_path):
    result = runner.invoke(args=["assignments", "check", str(with_survivor(tmp_path))])
    assert result.exit_code != 0
    assert "mutants/no_op" in result.output and "SURVIVED" in result.output
    assert "kill rate: 3/4 = 75%" in result.output
    assert "mutant no_op scores full marks on 2 of 2 seeds: no case catches it" in result.output


def test_sync_check_publishes_only_packages_that_pass(runner, app, tmp_path):
    """`sync --check`: the good package goes live with a passed check; the bad one is stored
    as an unpublished version with its failed report; the exit code says so."""
    shutil.copytree(BATCHNORM, tmp_path / "batchnorm")
    with_survivor(tmp_path, "bn_bad")
    result = runner.invoke(args=["assignments", "sync", "--check", str(tmp_path)])
    assert result.exit_code != 0
    assert "batchnorm: suite v1" in result.output and "published" in result.output
    assert (
        "bn_bad: suite v1" in result.output and "self-check failed, not published" in result.output
    )
    with app.app_context():
        good, bad = Assignment.by_slug("batchnorm"), Assignment.by_slug("bn_bad")
        assert good.published and good.current_suite.selfcheck_status is SelfCheckStatus.PASSED
        assert not bad.published
        assert bad.suites[0].selfcheck_status is SelfCheckStatus.FAILED
        runs = {r["name"]: r for r in bad.suites[0].selfcheck_report["runs"]}
        assert runs["no_op"]["scores"] == [10, 10] and runs["no_op"]["max_score"] == 10
        assert len(bad.suites[0].selfcheck_report["seeds"]) == 2


def test_check_by_slug_stores_the_report_on_the_newest_version(runner, app, tmp_path):
    """A synced (unchecked) suite gets its report and status from `check SLUG`."""
    shutil.copytree(BATCHNORM, tmp_path / "batchnorm")
    assert runner.invoke(args=["assignments", "sync", str(tmp_path)]).exit_code == 0
    with app.app_context():
        assert Assignment.by_slug("batchnorm").current_suite.selfcheck_status.value == "unchecked"
    result = runner.invoke(args=["assignments", "check", "batchnorm"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        suite = Assignment.by_slug("batchnorm").current_suite
        assert suite.selfcheck_status is SelfCheckStatus.PASSED
        assert suite.selfcheck_report["sha256"] == suite.sha256
        assert [r["kind"] for r in suite.selfcheck_report["runs"]] == [
            "reference",
            "starter",
            "mutant",
            "mutant",
            "mutant",
        ]
        db.session.remove()
    assert runner.invoke(args=["assignments", "check", "nope"]).exit_code != 0
