"""loan transactions by the time they were recorded

The nightly replay check reads the loans that an input transaction (payment, reversal,
waiver, refund) touched since the night before: an index on `created_at` makes that a range
read of a day's transactions instead of a scan of the whole log.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_loan_transactions_created_at", "loan_transactions", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_loan_transactions_created_at", table_name="loan_transactions")
