"""The fair order workers claim queued runs in (webapp.jobs.scheduling.fair_order), as plain logic:
a student with nothing graded yet goes before another student's fifth submission, a student's
own runs keep their order, regrades wait behind fresh submissions."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from webapp.jobs.scheduling import Waiting, fair_order

T0 = datetime(2026, 12, 1, 23, 0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_first_submission_goes_before_another_students_fifth():
    """Ana sent five runs at 23:00:00-04; Ben's first, sent last, is graded second."""
    ana = [Waiting(run_id=i, user_id=1, enqueued_at=at(i)) for i in range(5)]
    ben = Waiting(run_id=9, user_id=2, enqueued_at=at(10))
    order = fair_order([*ana, ben], recent={})
    assert [w.run_id for w in order] == [0, 9, 1, 2, 3, 4]


def test_runs_graded_recently_count_against_a_students_turn():
    """Ana has had four runs graded this hour: Ben's first goes before her next, even though
    hers was sent first."""
    ana = Waiting(run_id=1, user_id=1, enqueued_at=at(0))
    ben = Waiting(run_id=2, user_id=2, enqueued_at=at(5))
    assert [w.run_id for w in fair_order([ana, ben], recent={1: 4})] == [2, 1]
    assert [w.run_id for w in fair_order([ana, ben], recent={})] == [1, 2]


def test_regrades_wait_behind_fresh_submissions():
    regrades = [Waiting(run_id=i, user_id=i, enqueued_at=at(0), regrade=True) for i in (1, 2)]
    fresh = Waiting(run_id=3, user_id=3, enqueued_at=at(60))
    assert [w.run_id for w in fair_order([*regrades, fresh], recent={})] == [3, 1, 2]


waiting_lists = st.lists(
    st.builds(
        Waiting,
        run_id=st.integers(1, 10_000),
        user_id=st.integers(1, 5),
        enqueued_at=st.integers(0, 600).map(at),
        regrade=st.booleans(),
    ),
    max_size=40,
    unique_by=lambda w: w.run_id,
)
recents = st.dictionaries(st.integers(1, 5), st.integers(0, 20))


@given(waiting_lists, recents)
def test_the_order_is_a_permutation_keeping_each_students_own_order(waiting, recent):
    order = fair_order(waiting, recent)
    assert sorted(w.run_id for w in order) == sorted(w.run_id for w in waiting)
    for kind in (False, True):
        for user in {w.user_id for w in waiting}:
            theirs = [w for w in order if w.user_id == user and w.regrade is kind]
            assert theirs == sorted(theirs, key=lambda w: (w.enqueued_at, w.run_id))
    assert [w.regrade for w in order] == sorted(w.regrade for w in order)


@given(waiting_lists, recents)
def test_no_student_waits_behind_more_than_their_share(waiting, recent):
    """A fresh run of a student with k earlier runs (graded recently or waiting ahead of it)
    has ahead of it only fresh runs whose own count is at most k (ties: sent earlier)."""
    order = fair_order(waiting, recent)
    turns, seen = {}, {}
    for w in sorted(waiting, key=lambda w: (w.enqueued_at, w.run_id)):
        turns[w.run_id] = recent.get(w.user_id, 0) + seen.get((w.user_id, w.regrade), 0)
        seen[(w.user_id, w.regrade)] = seen.get((w.user_id, w.regrade), 0) + 1
    for index, run in enumerate(order):
        for ahead in order[:index]:
            if ahead.regrade == run.regrade:
                assert turns[ahead.run_id] <= turns[run.run_id]
