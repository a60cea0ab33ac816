"""The gradebook computed from real submissions, runs, extensions and typed-in scores matches
the hand calculation in tests/webapp/gradebook/gradebook_support.py; regrades and choices show
at once."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.webapp.gradebook.gradebook_support import (
    ALICE_TOTAL,
    BOB_TOTAL,
    add_run,
    at,
    set_policy,
    submission_at,
    worked_example,
)
from webapp.extensions import db
from webapp.gradebook.service import compute_gradebook
from webapp.gradebook.stats import histogram, histogram_svg, item_stats


@pytest.fixture
def ids(app, make):
    return worked_example(app, make)


def rows_by_name(app) -> dict:
    with app.app_context():
        return {row.username: row for row in compute_gradebook().rows}


def test_worked_example_matches_the_hand_calculation(app, ids):
    """Every cell, category and the total of alice and bob, as computed by hand."""
    alice = rows_by_name(app)["alice"]
    scores = {key: cell.score for key, cell in alice.cells.items()}
    assert scores == pytest.approx(
        {
            "a1": 6,
            "a2": 8,
            "a3": 9,
            "a4": 5,
            "written1": 15,
            "written2": None,
            "written3": 18,
            "written4": 10,
            "project": 80,
            "final": 65,
        }  # fmt: skip
    )
    assert alice.cells["a1"].counted.attempt_id == ids["a1_last"]
    assert alice.cells["a2"].counted.attempt_id == ids["a2_late"]
    assert alice.cells["a2"].counted.penalty == pytest.approx(0.2)
    assert alice.cells["a4"].counted.attempt_id == ids["a4_sub"]
    assert [k for k, c in alice.cells.items() if c.dropped] == ["a4", "written2"]
    assert alice.categories["Programming"].percent == pytest.approx(230 / 3)
    assert alice.categories["Written exams"].percent == pytest.approx(215 / 3)
    assert alice.total == pytest.approx(ALICE_TOTAL) and alice.total == pytest.approx(73.5)


def test_student_without_work_gets_zeros_not_errors(app, ids):
    """bob submitted nothing: his items are missing, categories 0, only the final counts."""
    bob = rows_by_name(app)["bob"]
    assert all(bob.cells[k].score is None for k in ("a1", "a2", "a3", "a4", "project"))
    assert bob.categories["Programming"].percent == 0
    assert bob.total == pytest.approx(BOB_TOTAL)


def test_only_students_have_rows(app, make, ids):
    """Staff (who may submit to try the grader) never appear in the gradebook."""
    submission_at(app, ids["tina"], ids["a1"], at(-3), 10)
    assert sorted(rows_by_name(app)) == ["alice", "bob"]


def test_explanations_say_how_each_score_was_chosen(app, ids):
    """The counted submission's explanation names the rule, the timing and the penalty."""
    cells = rows_by_name(app)["alice"].cells
    assert "the last on-time submission" in cells["a1"].counted.explanation
    a2 = cells["a2"].counted.explanation
    assert "the best of 2" in a2 and "2 days late: -20%" in a2 and "10 x 0.8 = 8" in a2
    assert "On time: 9 / 10" in cells["a3"].counted.explanation  # inside the 60-minute grace
    a4 = cells["a4"].counted.explanation
    assert "extension" in a4 and "1 late submission not accepted" in a4


def test_regrade_replaces_the_score_once_graded(app, ids):
    """A new graded run of the counted submission changes the gradebook; a queued one not yet."""
    add_run(app, ids["a1_last"], None)
    assert rows_by_name(app)["alice"].cells["a1"].score == 6
    add_run(app, ids["a1_last"], 7.5)
    assert rows_by_name(app)["alice"].cells["a1"].score == 7.5
    add_run(app, ids["a1_last"], 2)  # a later regrade that scores lower also replaces it
    row = rows_by_name(app)["alice"]
    assert row.cells["a1"].score == 2
    assert row.cells["a1"].dropped  # 0.2 is now the lowest of the four programming items


def test_count_rule_change_applies_immediately(app, ids):
    """Switching a1 to "best" counts the earlier 8 instead of the last 6."""
    set_policy(app, ids["a1"], rule="best")
    cell = rows_by_name(app)["alice"].cells["a1"]
    assert cell.score == 8 and cell.counted.attempt_id == ids["a1_first"]


def test_whole_gradebook_takes_a_fixed_number_of_queries(app, make, ids):
    """Adding students adds no queries: nothing is loaded per student."""

    def count_queries() -> int:
        statements = []
        with app.app_context():
            listener = lambda *args: statements.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                compute_gradebook()
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    before = count_queries()
    for name in ("cara", "dan", "eve"):
        submission_at(app, make.user(name), ids["a1"], at(-1), 5)
    assert count_queries() == before <= 12


def test_item_statistics_and_histograms(app, ids):
    """Mean, median, how many scored and submitted, and the histogram bins per item."""
    with app.app_context():
        book = compute_gradebook()
        stats = {s.column.key: s for s in item_stats(book.columns, book.rows)}
    final = stats["final"]
    assert (final.mean, final.median, final.count, final.students) == (57.5, 57.5, 2, 2)
    assert final.submissions is None
    assert final.bins == (0, 0, 0, 0, 0, 1, 1, 0, 0, 0)  # 50% and 65%
    a2 = stats["a2"]
    assert (a2.mean, a2.count, a2.submissions) == (8.0, 1, 2)
    assert stats["written2"].mean is None and stats["written2"].count == 0


def test_histogram_bins_and_svg():
    assert histogram([0.0, 0.05, 0.1, 0.99, 1.0]) == (2, 1, 0, 0, 0, 0, 0, 0, 0, 2)
    svg = str(histogram_svg((0, 2, 0, 0, 0, 0, 0, 0, 0, 1), 'Scores of <a1> "x"'))
    assert svg.startswith("<svg") and svg.count("<rect") == 10
    assert "&lt;a1&gt;" in svg and "<a1>" not in svg
    assert "10-20%: 2" in svg and 'height="60"' in svg  # the tallest bar fills the height
