"""nightly indexes: loan transactions by the time they were recorded; uncharged instalments

The replay check and closing read the loans that an input transaction (payment, reversal,
waiver, refund) touched since the last check or night: an index on `created_at` makes that a
range read of a day's transactions instead of a scan of the whole log. The late-fee step
reads the instalments not yet charged and not paid in full, due before their fee day: a
partial index on `due_date` over exactly those rows (few, once the book is charged: every
future instalment is past the range it reads) instead of every instalment of the book.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNCHARGED = "late_fee = 0 AND paid_principal + paid_profit + paid_fee < total"


def upgrade() -> None:
    op.create_index("ix_loan_transactions_created_at", "loan_transactions", ["created_at"])
    op.create_index(
        "ix_instalments_uncharged",
        "instalments",
        ["due_date"],
        postgresql_where=sa.text(UNCHARGED),
        sqlite_where=sa.text(UNCHARGED),
    )


def downgrade() -> None:
    op.drop_index("ix_instalments_uncharged", table_name="instalments")
    op.drop_index("ix_loan_transactions_created_at", table_name="loan_transactions")
