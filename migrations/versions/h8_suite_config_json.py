"""A suite version's configuration, stored as validated: suites.config_json.

Until now `Suite.config` parsed the stored assignment.toml with the grader's current
validation on every access, so a stricter validator would make old versions unreadable. The
parsed configuration is now kept under a versioned schema (grader.package.config_to_dict)
when a version is stored. This upgrade fills it for the versions already stored; a version
whose TOML no longer parses keeps NULL and is read as before.

Revision ID: h8_suite_config_json
Revises: g7_user_sessions
Create Date: 2026-12-01 03:10:00.000000

"""

import tomllib

import sqlalchemy as sa
from alembic import op

from grader import config_to_dict, parse_config

# revision identifiers, used by Alembic.
revision = "h8_suite_config_json"
down_revision = "g7_user_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("suites") as batch:
        batch.add_column(sa.Column("config_json", sa.JSON(), nullable=True))
    suites = sa.table(
        "suites",
        sa.column("id", sa.Integer),
        sa.column("config_toml", sa.Text),
        sa.column("config_json", sa.JSON),
    )
    bind = op.get_bind()
    for suite_id, toml_text in bind.execute(sa.select(suites.c.id, suites.c.config_toml)):
        try:
            stored = config_to_dict(parse_config(tomllib.loads(toml_text)))
        except (ValueError, TypeError, KeyError):  # PackageError and TOMLDecodeError included
            continue
        bind.execute(
            suites.update().where(suites.c.id == suite_id).values(config_json=stored)
        )


def downgrade():
    with op.batch_alter_table("suites") as batch:
        batch.drop_column("config_json")
