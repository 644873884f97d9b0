"""approvals: maker-checker for write-offs and refunds

A write-off or a refund is proposed by one staff member and approved (or rejected) by another;
the row keeps both, the decision's time and note, and the transaction the approval wrote. The
database refuses a decision by the proposer (CHECK four_eyes).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lending.models.types import Money, UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_approvals_amount_positive")),
        sa.CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id <> proposed_by_id",
            name=op.f("ck_approvals_four_eyes"),
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_approvals_loan_id_loans")),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["users.id"], name=op.f("fk_approvals_proposed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_approvals_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["loan_transactions.id"],
            name=op.f("fk_approvals_transaction_id_loan_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index("ix_approvals_loan_id", "approvals", ["loan_id"])
    op.create_index("ix_approvals_status_loan_id", "approvals", ["status", "loan_id"])


def downgrade() -> None:
    op.drop_index("ix_approvals_status_loan_id", table_name="approvals")
    op.drop_index("ix_approvals_loan_id", table_name="approvals")
    op.drop_table("approvals")
