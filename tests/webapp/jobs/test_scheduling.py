"""Fair turns on the database: workers claim runs in fair order, one student holds at most
MAX_RUNNING_PER_STUDENT slots, the position a student is shown is the claim order, a student
has at most MAX_IN_FLIGHT_PER_STUDENT submissions waiting across assignments, and every
claimable run has a turn (message) waiting for it."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import event, update

from tests.conftest import run_of
from webapp.extensions import db
from webapp.jobs import grading, scheduling
from webapp.jobs.reconcile import missing_turns, reconcile_and_enqueue
from webapp.jobs.routing import queue_info
from webapp.jobs.tasks import send_turn_if_waiting
from webapp.models import GradingRun, RunState, Submission


@pytest.fixture
def people(make) -> dict[str, int]:
    return {name: make.user(name) for name in ("ana", "ben", "cid")}


@pytest.fixture
def toy(make) -> int:
    return make.assignment("toy")


def claim(worker: str = "w1") -> int | None:
    """The submission id of the run the next claim takes (None: nothing claimable)."""
    taken = scheduling.claim_next("cpu", worker)
    return None if taken is None else db.session.get_one(GradingRun, taken.run_id).submission_id


def test_a_students_first_run_goes_before_anothers_fifth(app, ctx, make, people, toy):
    """Ana sent five runs before Ben sent his first; with two slots free, Ana's first and
    Ben's first are taken before her second."""
    app.config["MAX_RUNNING_PER_STUDENT"] = 0  # order only, no cap
    anas = [make.submission(people["ana"], toy) for _ in range(5)]
    ben = make.submission(people["ben"], toy)
    assert [claim() for _ in range(7)] == [anas[0], ben, *anas[1:], None]


def test_one_student_holds_one_slot_and_the_next_turn_goes_to_another(ctx, make, people, toy):
    """With Ana's run being graded, a turn skips her waiting runs for Ben's; when nobody else
    waits, her runs stay queued (a slot stays free for whoever comes) until hers ends."""
    anas = [make.submission(people["ana"], toy) for _ in range(3)]
    ben = make.submission(people["ben"], toy)
    assert claim() == anas[0]
    assert claim() == ben
    assert claim() is None  # Ana is at her cap; nobody else waits
    assert run_of(anas[1]).status is RunState.QUEUED
    grading.fail_run(grading.Claim(run_of(anas[0]).id, 1), "done")
    assert claim() == anas[1]


def test_the_cap_holds_for_claims_racing_from_two_workers(ctx, make, people, toy):
    """The cap is part of the claiming statement: a claim chosen before another worker gave
    the student a slot does not take a second one."""
    first, second = (make.submission(people["ana"], toy) for _ in range(2))
    stale_choice = scheduling.claimable("cpu")  # both runs look claimable now
    assert claim() == first
    user = people["ana"]
    taken = scheduling._take(
        scheduling.Waiting(run_of(second).id, user, stale_choice[1].enqueued_at),
        "w2",
        scheduling.utcnow(),
    )
    assert taken is None and run_of(second).status is RunState.QUEUED


def test_the_position_shown_is_the_claim_order(app, ctx, make, people, toy):
    """Ben's run, sent after three of Ana's, is next in line; Ana's third has two ahead."""
    anas = [make.submission(people["ana"], toy) for _ in range(3)]
    ben = make.submission(people["ben"], toy)
    positions = {sub: queue_info(run_of(sub), workers=[]).position for sub in [*anas, ben]}
    assert positions == {anas[0]: 0, ben: 1, anas[1]: 2, anas[2]: 3}
    app.config["MAX_RUNNING_PER_STUDENT"] = 0
    order = [claim() for _ in range(4)]
    assert order == sorted(positions, key=positions.get)


def test_a_retried_run_is_not_claimed_before_its_backoff(ctx, make, people, toy):
    sub = make.submission(people["ana"], toy)
    taken = scheduling.claim_next("cpu", "w1")
    grading.requeue_run(taken, delay_s=30)
    assert claim() is None
    db.session.execute(
        update(GradingRun)
        .where(GradingRun.id == taken.run_id)
        .values(enqueued_at=scheduling.utcnow())
    )
    db.session.commit()
    assert claim() == sub


def test_a_turn_is_passed_on_when_a_capped_students_run_may_go(ctx, make, people, toy, sent_tasks):
    """The turn spent while Ana was at her cap is given back when her run ends."""
    first, _second = (make.submission(people["ana"], toy) for _ in range(2))
    taken = scheduling.claim_next("cpu", "w1")
    assert send_turn_if_waiting("cpu", first) is False  # her second is held back
    grading.fail_run(taken, "done")
    assert send_turn_if_waiting("cpu", first) is True
    assert [name for name, _ in sent_tasks("cpu")] == ["webapp.grade_submission"]


def test_the_reconciler_tops_turns_up_to_the_claimable_runs(ctx, make, people, toy, sent_tasks):
    """Four claimable runs (nobody is being graded, so Ana's second is claimable too): with one
    message waiting, three more turns; with none, four; an unreadable length sends none."""
    for name in ("ana", "ana", "ben", "cid"):
        make.submission(people[name], toy)
    assert missing_turns({"cpu": 1, "gpu": 0}, to_send=[]) == {"cpu": 3}
    assert missing_turns({"cpu": None, "gpu": 0}, to_send=[]) == {}
    report = reconcile_and_enqueue()
    assert report.turns == {"cpu": 4}
    assert reconcile_and_enqueue().turns == {}  # the messages are there now
    assert len(sent_tasks("cpu")) == 4


def test_in_flight_cap_counts_every_assignment(app, client, make, auth):
    """Three submissions waiting over three assignments: the fourth, on a fourth assignment,
    is refused with 429 and nothing is stored."""
    app.config["MAX_IN_FLIGHT_PER_STUDENT"] = 3
    user = make.user("ana")
    slugs = ["a1", "a2", "a3", "a4"]
    for slug in slugs:
        make.assignment(slug)
    auth.login("ana")

    def upload(slug: str):
        data = {"files": [(io.BytesIO(b"def double(x):\n    return 2 * x\n"), "layers.py")]}
        return client.post(f"/assignments/{slug}/submissions", data=data)

    assert [upload(slug).status_code for slug in slugs[:3]] == [302, 302, 302]
    refused = upload("a4")
    assert refused.status_code == 429
    assert b"3 submissions waiting to be graded across your assignments" in refused.data
    with app.app_context():
        assert db.session.query(Submission).filter_by(user_id=user).count() == 3


def test_a_student_being_graded_waits_behind_a_newcomer(app, ctx, make, people, toy):
    """Ana's first run is being graded and two more of hers wait; Ben's, sent after them all,
    is next in line (Ana has had a turn this hour) and is the one the next turn takes."""
    anas = [make.submission(people["ana"], toy) for _ in range(3)]
    assert claim() == anas[0]
    ben = make.submission(people["ben"], toy)
    positions = {sub: queue_info(run_of(sub), workers=[]).position for sub in [*anas[1:], ben]}
    assert positions == {ben: 0, anas[1]: 1, anas[2]: 2}
    assert claim() == ben


@pytest.mark.parametrize("before_statement", [1, 2, 3, 4])
def test_a_claim_committed_while_a_position_is_read_never_puts_the_run_back(
    ctx, make, people, toy, before_statement
):
    """Ana has a run being graded and one waiting; a worker claims Ben's run (another
    connection, committed) while his page reads where he stands. Whichever statement of that
    read the claim lands before, Ben is never shown behind Ana's waiting run: two reads used
    to see his run both still waiting and already started, a turn too many."""
    anas = [make.submission(people["ana"], toy) for _ in range(2)]
    assert claim() == anas[0]
    bens_run = run_of(make.submission(people["ben"], toy))
    seen = {"statements": 0, "claimed": False}

    def claim_bens_run_elsewhere(*_args: object) -> None:
        seen["statements"] += 1
        if seen["statements"] == before_statement and not seen["claimed"]:
            seen["claimed"] = True
            with db.engine.connect() as worker:
                claimed = (
                    update(GradingRun)
                    .where(GradingRun.id == bens_run.id)
                    .values(status=RunState.RUNNING, attempt=1, started_at=scheduling.utcnow())
                )
                worker.execute(claimed)
                worker.commit()

    event.listen(db.engine, "before_cursor_execute", claim_bens_run_elsewhere)
    try:
        info = queue_info(bens_run, workers=[])
    finally:
        event.remove(db.engine, "before_cursor_execute", claim_bens_run_elsewhere)
    assert info.position == 0
    assert before_statement > 1 or seen["claimed"]
