"""Suite self-check: status, report, when it last changed, and publish-when-passed.

Revision ID: b2_selfcheck
Revises: 74a998eb9d4a
Create Date: 2026-11-22 04:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b2_selfcheck"
down_revision = "74a998eb9d4a"
branch_labels = None
depends_on = None

STATUSES = ("unchecked", "queued", "running", "passed", "failed")


def upgrade():
    with op.batch_alter_table("suites", schema=None) as batch_op:
        # Suites stored before this revision were never checked: server defaults fill them.
        batch_op.add_column(
            sa.Column(
                "selfcheck_status",
                sa.Enum(
                    *STATUSES,
                    name="selfcheck_status",
                    native_enum=False,
                    create_constraint=True,
                    length=16,
                ),
                nullable=False,
                server_default="unchecked",
            )
        )
        batch_op.add_column(sa.Column("selfcheck_report", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("selfcheck_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "publish_when_checked", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade():
    with op.batch_alter_table("suites", schema=None) as batch_op:
        # SQLite copies the table with its CHECKs: drop this one before its column goes.
        batch_op.drop_constraint(batch_op.f("ck_suites_selfcheck_status"), type_="check")
        batch_op.drop_column("publish_when_checked")
        batch_op.drop_column("selfcheck_at")
        batch_op.drop_column("selfcheck_report")
        batch_op.drop_column("selfcheck_status")
