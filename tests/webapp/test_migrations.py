"""Migrations: one head, `db upgrade` from empty on SQLite and PostgreSQL, the result matches
the models exactly (autogenerate finds nothing to do), and downgrade returns to empty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from webapp import MIGRATIONS_DIR, create_app
from webapp.extensions import db

TABLES = {
    "alembic_version",
    "active_submissions",
    "api_tokens",
    "assignments",
    "case_results",
    "extensions",
    "grade_categories",
    "grade_items",
    "grading_runs",
    "manual_scores",
    "reference_bank",
    "scoring_policies",
    "submission_files",
    "submissions",
    "suites",
    "user_sessions",
    "users",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind (PostgreSQL: a scratch database, dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    yield request.getfixturevalue("fresh_postgres")


def test_single_head():
    """Exactly one head: no unmerged branches of revisions."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_matches_models_and_downgrades(app_config, empty_database):
    """From empty, upgrade creates every table, autogenerate sees no difference from the
    models, and downgrade to base removes them again."""
    app = create_app({**app_config, "DATABASE_URL": empty_database})
    with app.app_context():
        flask_migrate.upgrade()
        assert set(sa.inspect(db.engine).get_table_names()) == TABLES
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        flask_migrate.downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) == {"alembic_version"}
        db.engine.dispose()


def test_db_upgrade_command(app_config, tmp_path):
    """`flask --app webapp db upgrade` works on a fresh SQLite file."""
    app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "grading_runs" in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_upgrade_stores_the_configuration_of_suites_already_there(app_config, tmp_path, make):
    """h8: versions stored before config_json get it from their TOML; one whose TOML no longer
    parses keeps NULL (and is read as before)."""
    app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}"})
    toml_text = make.package(slug="toy").read("assignment.toml").decode()
    with app.app_context():
        flask_migrate.upgrade(revision="g7_user_sessions")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO assignments (id, slug, title, summary, published, "
                    "late_policy, created_at) VALUES (1, 'toy', 'Toy', '', 1, 'open', "
                    "'2026-01-01 00:00:00')"
                )
            )
            for suite_id, text in ((1, toml_text), (2, "not = [toml")):
                conn.execute(
                    sa.text(
                        "INSERT INTO suites (id, assignment_id, version, package_zip, sha256, "
                        "seed, config_toml, handout, max_score, created_at, selfcheck_status, "
                        "publish_when_checked) VALUES (:id, 1, :id, x'00', 'x', 1, :toml, '', "
                        "12, '2026-01-01 00:00:00', 'unchecked', 0)"
                    ),
                    {"id": suite_id, "toml": text},
                )
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT id, config_json FROM suites")).all())
        db.engine.dispose()
    assert rows[2] is None
    assert '"schema": 1' in rows[1] and '"slug": "toy"' in rows[1]
