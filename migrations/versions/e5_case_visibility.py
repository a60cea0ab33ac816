"""Hidden means hidden: each case result keeps the student's exception text (`detail`), what
the case printed (`output`) and the case's visibility, so pages show them only as it allows.
Rows stored before this revision are `visible` (they were shown in full already).

A failed run can be acknowledged by staff (under FAILED_RUN_POLICY "hold" the submission's
earlier score then counts again): who and when.

Revision ID: e5_case_visibility
Revises: d4_operations
Create Date: 2026-11-23 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e5_case_visibility"
down_revision = "d4_operations"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("output", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("visibility", sa.String(length=16), nullable=False, server_default="visible")
        )
    with op.batch_alter_table("grading_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("acknowledged_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_grading_runs_acknowledged_by_id_users"),
            "users",
            ["acknowledged_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("grading_runs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_grading_runs_acknowledged_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("acknowledged_by_id")
        batch_op.drop_column("acknowledged_at")
    with op.batch_alter_table("case_results", schema=None) as batch_op:
        batch_op.drop_column("visibility")
        batch_op.drop_column("output")
        batch_op.drop_column("detail")
