"""Operations: the queue each grading run was last sent to (cpu or gpu).

Routing chooses the queue when a run is sent (a "preferred" GPU assignment goes to the CPU
queue while no GPU worker is alive), so it is recorded: queue positions count the runs ahead
in the same queue. Runs stored before this revision count as cpu.

Revision ID: d4_operations
Revises: c3_gradebook
Create Date: 2026-11-22 05:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4_operations"
down_revision = "c3_gradebook"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("grading_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("queue", sa.String(length=16), nullable=False, server_default="cpu")
        )


def downgrade():
    with op.batch_alter_table("grading_runs", schema=None) as batch_op:
        batch_op.drop_column("queue")
