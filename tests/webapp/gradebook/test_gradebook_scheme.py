"""Course rules as data: instructors edit categories, items and counting rules (weights that do
not add up to 100 are refused); `gradebook seed`; TAs grant extensions, which submitting honours."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.webapp.gradebook.gradebook_support import worked_example
from webapp.extensions import db
from webapp.models import (
    Assignment,
    Category,
    Extension,
    GradeItem,
    LatePolicy,
    ScoringPolicy,
    Submission,
)


@pytest.fixture
def ids(app, make):
    return worked_example(app, make)


def categories(app) -> dict[str, tuple[float, int | None, list[str]]]:
    with app.app_context():
        return {
            c.name: (c.weight, c.best_n, [i.key for i in c.items])
            for c in db.session.scalars(select(Category).order_by(Category.position))
        }


def category_form(app, **changes: str) -> dict[str, str]:
    """The categories form as the page fills it in, with `changes` applied."""
    with app.app_context():
        form = {}
        for c in db.session.scalars(select(Category)):
            form |= {
                f"name-{c.id}": c.name,
                f"weight-{c.id}": f"{c.weight:g}",
                f"best_n-{c.id}": str(c.best_n or ""),
                f"position-{c.id}": str(c.position),
            }
    return form | changes


def category_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Category.id).where(Category.name == name))


def test_weights_not_adding_to_100_are_refused(app, client, auth, ids):
    """A clear message names the sum; nothing changes."""
    before = categories(app)
    auth.login("ivan")
    prog = category_id(app, "Programming")
    response = client.post(
        "/gradebook/scheme/categories", data=category_form(app, **{f"weight-{prog}": "40"})
    )
    assert response.status_code == 400
    assert "the category weights add up to 110%, not 100%" in response.get_data(as_text=True)
    assert categories(app) == before


def test_instructor_edits_weights_best_n_and_adds_a_category(app, client, auth, ids):
    auth.login("ivan")
    prog, proj = category_id(app, "Programming"), category_id(app, "Project")
    form = category_form(
        app,
        **{f"weight-{prog}": "25", f"best_n-{prog}": "2", f"weight-{proj}": "15"},
        **{"name-new": "Quizzes", "weight-new": "10", "best_n-new": "", "position-new": "9"},
    )
    response = client.post("/gradebook/scheme/categories", data=form)
    assert response.status_code == 302
    got = categories(app)
    assert got["Programming"][:2] == (25, 2) and got["Project"][0] == 15
    assert got["Quizzes"] == (10, None, [])


def test_category_with_items_cannot_be_removed(app, client, auth, ids):
    auth.login("ivan")
    proj, final = category_id(app, "Project"), category_id(app, "Final")
    form = category_form(app, **{f"delete-{proj}": "1", f"weight-{final}": "40"})
    response = client.post("/gradebook/scheme/categories", data=form)
    assert (
        response.status_code == 400 and b"Project: move or remove its 1 item first" in response.data
    )
    assert "Project" in categories(app)


def test_instructor_adds_moves_and_removes_items(app, client, auth, ids):
    """A manual item is added; an item moves category; removing one drops its scores."""
    auth.login("ivan")
    written = category_id(app, "Written exams")
    response = client.post(
        "/gradebook/scheme/items/new",
        data={
            "category": written,
            "source": "manual",
            "key": "written5",
            "title": "W5",
            "max_score": "25",
        },
    )
    assert response.status_code == 302
    assert (
        client.post(
            "/gradebook/scheme/items/new",
            data={"category": written, "source": "manual", "key": "a1", "max_score": "5"},
        ).status_code
        == 400
    )  # the key of an assignment
    with app.app_context():
        items = {i.key: i for i in db.session.scalars(select(GradeItem))}
        form = {}
        for i in items.values():
            form |= {
                f"title-{i.id}": i.title,
                f"category-{i.id}": str(i.category_id),
                f"position-{i.id}": str(i.position),
            }
            if i.is_manual:
                form[f"max-{i.id}"] = f"{i.max_score:g}"
        form[f"category-{items['project'].id}"] = str(category_id(app, "Final"))
        form[f"position-{items['project'].id}"] = "1"
        form[f"delete-{items['written1'].id}"] = "1"
    assert client.post("/gradebook/scheme/items", data=form).status_code == 302
    got = categories(app)
    assert got["Written exams"][2] == ["written2", "written3", "written4", "written5"]
    assert got["Final"][2] == ["final", "project"] and got["Project"][2] == []


def test_lowering_a_max_below_existing_scores_is_refused(app, client, auth, ids):
    auth.login("ivan")
    with app.app_context():
        item = db.session.scalar(select(GradeItem).where(GradeItem.key == "written3"))
        form = {
            f"title-{item.id}": item.title,
            f"category-{item.id}": str(item.category_id),
            f"max-{item.id}": "16",
        }
    response = client.post("/gradebook/scheme/items", data=form)
    assert response.status_code == 400
    assert b"written3: 1 score above the new max 16" in response.data


def test_instructor_sets_count_rule_grace_and_penalty(app, client, auth, ids):
    auth.login("ivan")
    data = {"count_rule": "best", "grace_minutes": "15", "penalty_percent": "12.5"}
    assert client.post("/gradebook/scheme/assignments/a1/policy", data=data).status_code == 302
    with app.app_context():
        policy = db.session.get(ScoringPolicy, ids["a1"])
        assert (policy.count_rule, policy.grace_minutes, policy.penalty_per_day) == (
            "best",
            15,
            0.125,
        )
    bad = {"count_rule": "newest", "grace_minutes": "-1", "penalty_percent": "abc"}
    response = client.post("/gradebook/scheme/assignments/a1/policy", data=bad)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "count rule must be one of last, best, active" in html
    assert "penalty per day (%): &#39;abc&#39; is not a number" in html


def test_seed_creates_the_course_scheme_once(app, runner, make):
    """`gradebook seed` builds the course's scheme with the programming assignments, is
    idempotent, and adds a programming assignment that appears later."""
    make.assignment("backprop")
    make.assignment("essay", package=make.package(slug="essay", extra_toml='category = "bonus"'))
    result = runner.invoke(args=["gradebook", "seed"])
    assert result.exit_code == 0, result.output
    expected = {
        "Programming assignments": (30, 3, ["backprop"]),
        "Written exams": (30, 3, ["written1", "written2", "written3", "written4"]),
        "Project": (20, None, ["project"]),
        "End-semester exam": (20, None, ["final"]),
    }
    assert categories(app) == expected
    again = runner.invoke(args=["gradebook", "seed"])
    assert again.exit_code == 0 and "up to date" in again.output
    assert categories(app) == expected
    make.assignment("cnn")
    assert (
        "added cnn to Programming assignments" in runner.invoke(args=["gradebook", "seed"]).output
    )
    assert categories(app)["Programming assignments"][2] == ["backprop", "cnn"]


def test_ta_grants_an_extension_and_the_student_may_submit_late(app, client, auth, make):
    """A TA grants alice more time on a closed assignment: she may submit after the deadline
    (not late), bob may not."""
    make.people()
    past = datetime.now(UTC) - timedelta(hours=1)
    make.assignment("toy", deadline=past, late_policy=LatePolicy.CLOSED)
    auth.login("tina")
    due = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    data = {"student": "alice", "assignment": "toy", "due": due, "reason": "medical note"}
    assert client.post("/gradebook/extensions", data=data).status_code == 302
    assert b"medical note" in client.get("/gradebook/extensions").data
    refused = client.post("/gradebook/extensions", data=data | {"reason": ""})
    assert refused.status_code == 400
    early = data | {"due": (past - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")}
    assert b"must end after" in client.post("/gradebook/extensions", data=early).data
    with app.app_context():
        extension = db.session.scalars(select(Extension)).one()
        assert extension.reason == "medical note" and extension.granted_by.username == "tina"
    auth.logout()
    files = {"files": [(io.BytesIO(b"def double(x):\n    return 2 * x\n"), "layers.py")]}
    auth.login("alice")
    assert client.post("/assignments/toy/submissions", data=files).status_code == 302
    auth.logout()
    auth.login("bob")
    files = {"files": [(io.BytesIO(b"def double(x):\n    return 2 * x\n"), "layers.py")]}
    assert client.post("/assignments/toy/submissions", data=files).status_code == 403
    with app.app_context():
        late_flags = db.session.scalars(select(Submission.late)).all()
        assert late_flags == [False]
        assert db.session.get(Assignment, extension.assignment_id).slug == "toy"
