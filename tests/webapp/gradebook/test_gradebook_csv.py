"""Gradebook CSV export (columns and content) and typed-in scores: the CSV import and the
per-item form store everything or nothing and report every bad row."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from tests.webapp.gradebook.gradebook_support import worked_example
from webapp.extensions import db
from webapp.models import GradeItem, ManualScore, User


@pytest.fixture
def ids(app, make):
    return worked_example(app, make)


def stored_scores(app) -> dict[tuple[str, str], float]:
    with app.app_context():
        rows = db.session.execute(
            select(User.username, GradeItem.key, ManualScore.score)
            .join(User, User.id == ManualScore.user_id)
            .join(GradeItem, GradeItem.id == ManualScore.item_id)
        )
        return {(u, k): s for u, k, s in rows}


def upload(client, text: str):
    data = {"scores": (io.BytesIO(text.encode()), "scores.csv")}
    return client.post("/gradebook/import", data=data, content_type="multipart/form-data")


def test_export_columns_and_rows(client, auth, ids):
    """One row per student; username, display_name, items by key, categories, total."""
    auth.login("tina")
    response = client.get("/gradebook/export.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "username", "display_name",
        "a1", "a2", "a3", "a4", "written1", "written2", "written3", "written4", "project", "final",
        "Programming (%)", "Written exams (%)", "Project (%)", "Final (%)", "total (%)",
        "failed runs",
    ]  # fmt: skip
    assert rows[1] == [
        "alice", "Alice",
        "6.00", "8.00", "9.00", "5.00", "15.00", "", "18.00", "10.00", "80.00", "65.00",
        "76.67", "71.67", "80.00", "65.00", "73.50", "",
    ]  # fmt: skip
    assert rows[2][:2] == ["bob", "Bob"] and rows[2][-2:] == ["10.00", ""]
    assert len(rows) == 3


def test_export_neutralises_spreadsheet_formulas(app, client, auth, ids):
    with app.app_context():
        User.by_username("bob").display_name = "=HYPERLINK(1)"
        db.session.commit()
    auth.login("tina")
    rows = list(csv.reader(io.StringIO(client.get("/gradebook/export.csv").get_data(as_text=True))))
    assert rows[2][1] == "'=HYPERLINK(1)"


def test_import_stores_good_scores(app, client, auth, ids):
    """A good file is stored; a blank score leaves the existing one; the page says how many."""
    auth.login("tina")
    response = upload(client, "username,item,score\nbob,written1,12.5\nalice,written1,\n")
    assert response.status_code == 200
    assert b"Imported 1 score; 1 changed." in response.data
    scores = stored_scores(app)
    assert scores[("bob", "written1")] == 12.5 and scores[("alice", "written1")] == 15


def test_import_reports_every_bad_row_and_changes_nothing(app, client, auth, ids):
    """Unknown student or item, autograded item, non-numeric, negative, over max, duplicate:
    all reported by line, and even the good line is not stored."""
    before = stored_scores(app)
    auth.login("tina")
    text = (
        "username,item,score\n"
        "bob,written2,10\n"  # good, but the file is refused as a whole
        "nobody,written1,5\n"
        "bob,written9,5\n"
        "bob,a1,5\n"
        "bob,written3,ten\n"
        "bob,written4,-1\n"
        "bob,project,101\n"
        "tina,final,50\n"
        "bob,written2,11\n"
    )
    response = upload(client, text)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for expected in (
        "line 3: unknown student &#39;nobody&#39;",
        "line 4: unknown item &#39;written9&#39;",
        "line 5: item &#39;a1&#39; is autograded",
        "line 6: score &#39;ten&#39; is not a number",
        "line 7: score -1 is negative",
        "line 8: score 101 is above the max 100 of project",
        "line 9: unknown student &#39;tina&#39;",
        "line 10: bob has a second score for written2",
    ):
        assert expected in html, expected
    assert "line 2:" not in html
    assert stored_scores(app) == before


def test_import_needs_the_header(client, auth, ids):
    auth.login("tina")
    response = upload(client, "user,item,points\nbob,written1,3\n")
    assert response.status_code == 400 and b"missing columns: username, score" in response.data


def test_item_form_saves_all_or_nothing(app, client, auth, ids):
    """Typing scores for one item: a bad one refuses all; blank removes a score."""
    with app.app_context():
        alice, bob = (User.by_username(n).id for n in ("alice", "bob"))
    auth.login("tina")
    bad = client.post(
        "/gradebook/items/written1/scores", data={f"score-{alice}": "30", f"score-{bob}": "4"}
    )
    assert bad.status_code == 400 and b"alice: score 30 is above the max 20" in bad.data
    assert ("bob", "written1") not in stored_scores(app)
    client.post(
        "/gradebook/items/written1/scores", data={f"score-{alice}": "", f"score-{bob}": "4"}
    )
    scores = stored_scores(app)
    assert scores[("bob", "written1")] == 4 and ("alice", "written1") not in scores


def test_autograded_items_have_no_score_form(client, auth, ids):
    auth.login("tina")
    assert client.get("/gradebook/items/a1/scores").status_code == 404
