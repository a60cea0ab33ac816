"""Gradebook: categories and items, typed-in scores, counting rules, extensions, choices.

Revision ID: c3_gradebook
Revises: b2_selfcheck
Create Date: 2026-11-22 03:28:49.008812

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c3_gradebook"
down_revision = "b2_selfcheck"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "grade_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("best_n", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_grade_categories_name")),
    )
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_extensions_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_id"],
            ["users.id"],
            name=op.f("fk_extensions_granted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_extensions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extensions")),
        sa.UniqueConstraint(
            "assignment_id", "user_id", name=op.f("uq_extensions_assignment_id_user_id")
        ),
    )
    with op.batch_alter_table("extensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extensions_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_extensions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "grade_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("max_score", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_grade_items_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["grade_categories.id"],
            name=op.f("fk_grade_items_category_id_grade_categories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_items")),
        sa.UniqueConstraint("assignment_id", name=op.f("uq_grade_items_assignment_id")),
        sa.UniqueConstraint("key", name=op.f("uq_grade_items_key")),
    )
    with op.batch_alter_table("grade_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grade_items_category_id"), ["category_id"], unique=False
        )

    op.create_table(
        "scoring_policies",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("count_rule", sa.String(length=16), nullable=False),
        sa.Column("grace_minutes", sa.Integer(), nullable=False),
        sa.Column("penalty_per_day", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_scoring_policies_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_scoring_policies")),
    )
    op.create_table(
        "active_submissions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_active_submissions_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_active_submissions_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_active_submissions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "assignment_id", name=op.f("pk_active_submissions")),
    )
    with op.batch_alter_table("active_submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_active_submissions_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "manual_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["users.id"],
            name=op.f("fk_manual_scores_entered_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["grade_items.id"],
            name=op.f("fk_manual_scores_item_id_grade_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_manual_scores_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_scores")),
        sa.UniqueConstraint("item_id", "user_id", name=op.f("uq_manual_scores_item_id_user_id")),
    )
    with op.batch_alter_table("manual_scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_manual_scores_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_manual_scores_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("manual_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manual_scores_user_id"))
        batch_op.drop_index(batch_op.f("ix_manual_scores_item_id"))

    op.drop_table("manual_scores")
    with op.batch_alter_table("active_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_active_submissions_submission_id"))

    op.drop_table("active_submissions")
    op.drop_table("scoring_policies")
    with op.batch_alter_table("grade_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grade_items_category_id"))

    op.drop_table("grade_items")
    with op.batch_alter_table("extensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extensions_user_id"))
        batch_op.drop_index(batch_op.f("ix_extensions_assignment_id"))

    op.drop_table("extensions")
    op.drop_table("grade_categories")
