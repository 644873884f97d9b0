"""subsidy receipts: a sponsor's payment of a month's incentive claim; nightly balances

The subsidy receivable is then the subsidies of the loans booked (not cancelled) less what the
sponsors paid. Receipts are append-only, like the ledger. `gl_balances` keeps each account's
debits and credits as each night found them, so that a trial balance adds only what was
posted since instead of reading every journal line.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lending.models.types import Money, UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subsidy_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_code", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_subsidy_receipts_amount_positive")),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_subsidy_receipts_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_receipts")),
        sa.UniqueConstraint(
            "programme_code", "reference", name=op.f("uq_subsidy_receipts_programme_code_reference")
        ),
    )
    op.create_index("ix_subsidy_receipts_programme_code", "subsidy_receipts", ["programme_code"])
    op.create_table(
        "gl_balances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("through_entry_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("debit", Money(), nullable=False),
        sa.Column("credit", Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["gl_accounts.id"], name=op.f("fk_gl_balances_account_id_gl_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gl_balances")),
        sa.UniqueConstraint("as_of", "account_id", name=op.f("uq_gl_balances_as_of_account_id")),
    )
    op.create_index("ix_gl_balances_as_of", "gl_balances", ["as_of"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for action in ("UPDATE", "DELETE"):
        name = f"subsidy_receipts_no_{action.lower()}"
        if sqlite:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {action} ON subsidy_receipts "
                "BEGIN SELECT RAISE(ABORT, 'subsidy_receipts rows are append-only'); END"
            )
        else:  # lending_append_only() is migration 0007's
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {action} ON subsidy_receipts "
                "FOR EACH ROW EXECUTE FUNCTION lending_append_only()"
            )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for action in ("update", "delete"):
        on = "" if sqlite else " ON subsidy_receipts"
        op.execute(f"DROP TRIGGER IF EXISTS subsidy_receipts_no_{action}{on}")
    op.drop_index("ix_gl_balances_as_of", table_name="gl_balances")
    op.drop_table("gl_balances")
    op.drop_index("ix_subsidy_receipts_programme_code", table_name="subsidy_receipts")
    op.drop_table("subsidy_receipts")
