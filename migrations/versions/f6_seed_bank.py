"""Fresh inputs for every run: a bank of precomputed references replaces the per-seed cache.

Each grading run now draws its own inputs seed and secret; reference outputs for a draw are
computed ahead of time while the queue is idle (reference_bank, one row per unused draw,
deleted by the run that takes it) or alongside the run. The old reference_outputs table
cached one fixed seed per suite version and is dropped (a cache: nothing is lost).

Revision ID: f6_seed_bank
Revises: e5_case_visibility
Create Date: 2026-11-30 14:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f6_seed_bank"
down_revision = "e5_case_visibility"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reference_bank",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_bank")),
    )
    with op.batch_alter_table("reference_bank", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reference_bank_key"), ["key"], unique=False)
    op.drop_table("reference_outputs")


def downgrade():
    op.create_table(
        "reference_outputs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_outputs")),
        sa.UniqueConstraint("key", name=op.f("uq_reference_outputs_key")),
    )
    with op.batch_alter_table("reference_bank", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reference_bank_key"))
    op.drop_table("reference_bank")
