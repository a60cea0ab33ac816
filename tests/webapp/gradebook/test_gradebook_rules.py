"""Course rules: which submission counts, late penalties, best-N-of-M, weighted totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from webapp.gradebook.rules import (
    Attempt,
    FailedRun,
    LatePolicy,
    RuleError,
    category_result,
    check_weights,
    counted_submission,
    failed_runs,
    is_held,
    late_terms,
    lateness,
    weighted_total,
)

DUE = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
H = timedelta(hours=1)


def at(hours: float) -> datetime:
    """A time `hours` after the deadline (negative: before)."""
    return DUE + timedelta(hours=hours)


def attempt(i: int, hours: float, score: float | None, active: bool = False) -> Attempt:
    return Attempt(id=i, submitted_at=at(hours), score=score, max_score=100.0, active=active)


def test_on_time_within_grace_and_days_late_round_up():
    policy = LatePolicy(deadline=DUE, grace=timedelta(minutes=15), penalty_per_day=0.1)
    assert lateness(at(0.2), policy).days_late == 0  # 12 minutes late: inside the grace period
    assert lateness(at(0.3), policy) == lateness(at(24.25), policy)  # both start day 1
    assert lateness(at(0.3), policy).penalty == pytest.approx(0.1)
    assert lateness(at(24.3), policy).days_late == 2
    assert lateness(at(24 * 30), policy).penalty == 1.0  # never below zero points


def test_extension_moves_the_deadline_for_one_student():
    policy = LatePolicy(deadline=DUE, penalty_per_day=0.2)
    assert lateness(at(30), policy, extension=at(48)).days_late == 0
    assert lateness(at(50), policy, extension=at(48)).days_late == 1


def test_closed_late_work_is_not_accepted_and_does_not_count():
    policy = LatePolicy(deadline=DUE, closed=True)
    assert not lateness(at(1), policy).accepted
    got = counted_submission([attempt(1, -5, 40), attempt(2, 1, 100)], "last", policy)
    assert got is not None and got.attempt_id == 1 and got.score == 40


def test_last_on_time_wins_over_a_better_late_one():
    policy = LatePolicy(deadline=DUE, penalty_per_day=0.5)
    got = counted_submission(
        [attempt(1, -2, 60), attempt(2, -1, 50), attempt(3, 3, 100)], "last", policy
    )
    assert got is not None and got.attempt_id == 2 and got.score == 50


def test_only_late_work_counts_with_its_penalty_and_explains_it():
    policy = LatePolicy(deadline=DUE, penalty_per_day=0.25)
    got = counted_submission([attempt(1, 30, 80)], "last", policy)
    assert got is not None and got.score == pytest.approx(40.0) and got.raw == 80
    assert "2 days late" in got.explanation and "-50%" in got.explanation


def test_best_applies_penalties_before_comparing_and_ties_keep_the_earlier():
    policy = LatePolicy(deadline=DUE, penalty_per_day=0.5)
    got = counted_submission([attempt(1, -3, 70), attempt(2, 2, 100)], "best", policy)
    assert got is not None and got.attempt_id == 1  # 100 late is 50 after the penalty
    tie = counted_submission([attempt(5, -3, 70), attempt(6, -1, 70)], "best", policy)
    assert tie is not None and tie.attempt_id == 5


def test_active_rule_uses_the_choice_and_falls_back_to_last():
    policy = LatePolicy(deadline=DUE)
    got = counted_submission(
        [attempt(1, -3, 90, active=True), attempt(2, -1, 10)], "active", policy
    )
    assert got is not None and got.attempt_id == 1
    fallback = counted_submission([attempt(1, -3, 90), attempt(2, -1, 10)], "active", policy)
    assert fallback is not None and fallback.attempt_id == 2


def test_ungraded_attempts_never_count():
    assert counted_submission([attempt(1, -1, None)], "last", LatePolicy(deadline=DUE)) is None
    with pytest.raises(RuleError):
        counted_submission([], "newest", LatePolicy())


def test_best_three_of_four_drops_the_lowest_and_missing_counts_zero():
    got = category_result({"a1": 0.9, "a2": None, "a3": 0.6, "a4": 0.8}, best_n=3)
    assert got.dropped == ("a2",) and got.counted == ("a1", "a3", "a4")
    assert got.percent == pytest.approx(100 * (0.9 + 0.6 + 0.8) / 3)


def test_ties_drop_the_later_item_and_fewer_items_than_n_all_count():
    assert category_result({"e1": 0.5, "e2": 0.5, "e3": 0.5, "e4": 0.5}, 3).dropped == ("e4",)
    two = category_result({"a1": 1.0, "a2": 0.5}, 3)
    assert two.dropped == () and two.percent == pytest.approx(75.0)


def test_course_total_matches_a_hand_calculation():
    weights = {"programming": 30, "written": 30, "project": 20, "final": 20}
    check_weights(weights)
    prog = category_result({"a1": 0.8, "a2": 1.0, "a3": 0.5, "a4": 0.9}, 3).percent  # 90
    written = category_result({"w1": 0.7, "w2": 0.6, "w3": None, "w4": 0.8}, 3).percent  # 70
    total = weighted_total(
        {"programming": prog, "written": written, "project": 85, "final": 60}, weights
    )
    assert total == pytest.approx(0.3 * 90 + 0.3 * 70 + 0.2 * 85 + 0.2 * 60)  # 77.0


def test_weights_must_add_to_100():
    with pytest.raises(RuleError, match="add up to 90%"):
        check_weights({"a": 50, "b": 40})


def test_grace_applies_after_an_extension_too():
    """The grace period is added to the student's own deadline, and days count from there."""
    policy = LatePolicy(deadline=DUE, grace=timedelta(minutes=30), penalty_per_day=0.1)
    extension = at(48)
    assert lateness(at(48.4), policy, extension).days_late == 0  # 24 min after: in grace
    assert lateness(at(48.6), policy, extension).days_late == 1
    assert lateness(at(72.6), policy, extension).days_late == 2  # 24h06m after the grace
    assert lateness(at(10), policy).days_late == 1  # without the extension: late


def test_closed_assignment_accepts_work_until_the_extension_ends():
    policy = LatePolicy(deadline=DUE, grace=timedelta(minutes=5), closed=True)
    attempts = [attempt(1, 40, 70), attempt(2, 48.05, 90), attempt(3, 49, 100)]
    got = counted_submission(attempts, "last", policy, extension=at(48))
    assert got is not None and got.attempt_id == 2 and got.score == 90
    assert "On time (with the extension)" in got.explanation
    assert "1 late submission not accepted" in got.explanation


def test_penalty_arithmetic_is_explained_and_never_goes_below_zero():
    policy = LatePolicy(deadline=DUE, penalty_per_day=0.15)
    got = counted_submission([attempt(1, 50, 80)], "last", policy)  # 3 started days late
    assert got is not None and got.penalty == pytest.approx(0.45)
    assert got.score == pytest.approx(44.0)
    assert "3 days late: -45%, 80 x 0.55 = 44 / 100." in got.explanation
    floor = counted_submission([attempt(1, 24 * 9, 80)], "last", policy)
    assert floor is not None and floor.score == 0.0 and floor.penalty == 1.0


def test_last_ignores_ungraded_and_explains_late_only_work():
    policy = LatePolicy(deadline=DUE)
    got = counted_submission([attempt(1, -5, 40), attempt(2, -1, None)], "last", policy)
    assert got is not None and got.attempt_id == 1
    assert got.explanation.startswith("Submission #1 counts: the last on-time submission.")
    late = counted_submission([attempt(3, 2, 60)], "last", policy)
    assert late is not None and "the last submission (none was on time)" in late.explanation


def test_active_choice_that_cannot_count_falls_back_to_last():
    """A chosen submission that is ungraded or refused as late does not count; the last
    on-time one does, and the explanation says no usable choice was made."""
    closed = LatePolicy(deadline=DUE, closed=True)
    refused = counted_submission(
        [attempt(1, -3, 50), attempt(2, 5, 100, active=True)], "active", closed
    )
    assert refused is not None and refused.attempt_id == 1
    assert "no graded submission chosen, so the last on-time submission" in refused.explanation
    ungraded = counted_submission(
        [attempt(1, -3, 50), attempt(2, -1, None, active=True)], "active", closed
    )
    assert ungraded is not None and ungraded.attempt_id == 1
    chosen = counted_submission(
        [attempt(1, -3, 50, active=True), attempt(2, -1, 90)], "active", closed
    )
    assert chosen is not None and "the submission chosen to count" in chosen.explanation


def test_best_of_many_names_the_count_and_penalties():
    policy = LatePolicy(deadline=DUE, penalty_per_day=0.1)
    got = counted_submission(
        [attempt(1, -3, 60), attempt(2, -2, 75), attempt(3, 12, 80)], "best", policy
    )
    assert got is not None and got.attempt_id == 2  # 80 late is 72 after the penalty
    assert "the best of 3 graded submissions, after late penalties" in got.explanation


def test_missing_items_tie_with_zeros_and_the_later_one_is_dropped():
    got = category_result({"a1": 0.0, "a2": None, "a3": 0.5, "a4": 0.7}, best_n=3)
    assert got.dropped == ("a2",)
    assert got.percent == pytest.approx(100 * 1.2 / 3)
    every = category_result({"p": 0.8}, best_n=None)
    assert every.percent == pytest.approx(80) and every.dropped == ()
    assert category_result({}, best_n=3).percent == 0.0


def test_all_missing_still_drops_one_and_scores_zero():
    got = category_result({"w1": None, "w2": None, "w3": None, "w4": None}, best_n=3)
    assert got.percent == 0.0 and got.dropped == ("w4",)


def test_total_counts_a_missing_category_as_zero_and_refuses_negative_weights():
    assert weighted_total({"a": 50.0}, {"a": 60, "b": 40}) == pytest.approx(30.0)
    with pytest.raises(RuleError, match="negative"):
        check_weights({"a": 120, "b": -20})


@pytest.mark.parametrize(
    ("policy", "text"),
    [
        (LatePolicy(), "No deadline."),
        (LatePolicy(DUE), "Late submissions are accepted without penalty and marked late."),
        (LatePolicy(DUE, closed=True), "After that, submissions are refused."),
        (
            LatePolicy(DUE, grace=timedelta(minutes=15), penalty_per_day=0.1),
            "A grace period of 15 minutes counts as on time. "
            "After that, 10% is taken off the score per started day late.",
        ),
    ],
)
def test_late_terms_say_the_rules_in_a_sentence(policy, text):
    assert late_terms(policy) == text


def failed(i: int, hours: float, score: float | None, acknowledged: bool = False) -> Attempt:
    """An attempt whose latest run failed; `score` is its earlier graded run's."""
    return Attempt(i, at(hours), score, 100.0, failed="internal error", acknowledged=acknowledged)


def test_keep_counts_the_earlier_score_and_says_so():
    """Policy keep: a failed regrade leaves the last graded score counting, explained."""
    got = counted_submission([attempt(1, -5, 40), failed(2, -1, 90)], "last", LatePolicy(DUE))
    assert (got.attempt_id, got.score) == (2, 90)
    assert got.explanation.endswith(
        "Its latest grading run failed; this score is from its last successful run."
    )
    assert failed_runs([failed(2, -1, 90)], "keep") == (FailedRun(2, "internal error", False, 90),)


def test_hold_withholds_the_failed_submission_like_a_pending_one():
    """Policy hold: the failed submission does not count; the rule picks among the rest."""
    attempts = [attempt(1, -5, 40), failed(2, -1, 90)]
    got = counted_submission(attempts, "last", LatePolicy(DUE), failed_policy="hold")
    assert (got.attempt_id, got.score) == (1, 40)
    assert "#2 on hold for review (the latest grading run failed)" in got.explanation
    best = counted_submission(attempts, "best", LatePolicy(DUE), failed_policy="hold")
    assert best.attempt_id == 1
    assert counted_submission([failed(2, -1, 90)], "last", LatePolicy(DUE), None, "hold") is None
    assert failed_runs(attempts, "hold") == (FailedRun(2, "internal error", True, 90),)


def test_acknowledged_failure_is_no_longer_held():
    """Staff acknowledged the failure: the earlier score counts again (still flagged)."""
    attempts = [attempt(1, -5, 40), failed(2, -1, 90, acknowledged=True)]
    got = counted_submission(attempts, "last", LatePolicy(DUE), failed_policy="hold")
    assert (got.attempt_id, got.score) == (2, 90)
    assert failed_runs(attempts, "hold")[0].held is False


def test_failed_run_notes_for_staff():
    assert FailedRun(3, "suite broke", True, 50).note == (
        "#3 latest run failed (held for review): suite broke"
    )
    assert "(earlier score kept)" in FailedRun(3, "x", False, 50).note
    assert "(no earlier score)" in FailedRun(3, "x", False, None).note


def test_unknown_failed_run_policy_is_refused():
    with pytest.raises(RuleError, match="keep, hold"):
        is_held(failed(1, 0, 10), "forget")
    with pytest.raises(RuleError):
        counted_submission([attempt(1, 0, 10)], "last", LatePolicy(), failed_policy="forget")
