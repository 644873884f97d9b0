"""accrual: the profit recognised on each loan; accounts for accrued profit and subsidies

On the accrual basis (ACCOUNTING_BASIS=accrual) the night recognises each instalment's profit
when it falls due (per period), except on a loan the regulator profile treats as non-performing,
whose profit is suspended: only what it paid is recognised. `loans.profit_recognised` is what
the ledger has recognised for the loan so far; the profit receivable account is the sum over
loans of what is recognised less what is paid. Incentive subsidies are receivable from the
programme's sponsor from booking.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 23:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from lending.models.types import Money, UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCOUNTS = (
    ("1210", "profit_receivable", "asset", "Profit receivable (accrued)", "قابلِ وصول منافع"),
    (
        "1250",
        "subsidy_receivable",
        "asset",
        "Incentive subsidies receivable from sponsors",
        "اسپانسرز سے قابلِ وصول مراعاتی سبسڈی",
    ),
    ("4500", "subsidy_income", "income", "Incentive subsidy income", "مراعاتی سبسڈی کی آمدنی"),
)


def upgrade() -> None:
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("profit_recognised", Money(), nullable=False, server_default="0")
        )
    table = sa.table(
        "gl_accounts",
        sa.column("code"),
        sa.column("role"),
        sa.column("kind"),
        sa.column("name"),
        sa.column("name_ur"),
        sa.column("created_at", UTCDateTime()),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        table,
        [
            {"code": c, "role": r, "kind": k, "name": n, "name_ur": u, "created_at": now}
            for c, r, k, n, u in ACCOUNTS
        ],
    )

    _opening_subsidies(op.get_bind())
    # 0009 seeded a "Loans written off" expense that no posting uses: a write-off is charged
    # to the allowance for loan losses, which the night's provisions top up.
    op.execute(
        "DELETE FROM gl_accounts WHERE role = 'write_off_expense' "
        "AND id NOT IN (SELECT account_id FROM journal_lines) "
        "AND id NOT IN (SELECT account_id FROM gl_product_accounts)"
    )


def _opening_subsidies(bind) -> None:
    """The subsidies of the loans already booked (not cancelled), receivable from their
    sponsors: one entry per loan, dated today (migration 0009 left them out)."""
    sqlite = bind.dialect.name == "sqlite"
    rows = bind.execute(
        sa.text(
            "SELECT i.loan_id, sum(i.subsidy) FROM loan_incentives i JOIN loans l "
            "ON l.id = i.loan_id WHERE l.status <> 'cancelled' GROUP BY i.loan_id "
            "HAVING sum(i.subsidy) > 0 ORDER BY i.loan_id"
        )
    ).all()
    if not rows:
        return
    accounts = dict(bind.execute(sa.text("SELECT role, id FROM gl_accounts")).all())
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Karachi")).date()
    now = UTCDateTime().process_bind_param(datetime.now(UTC), bind.dialect)
    entry_id = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM journal_entries")).scalar()
    for loan_id, subsidy in rows:  # on SQLite a sum of paisa; on PostgreSQL of rupees
        entry_id += 1
        legs = [(accounts["subsidy_receivable"], subsidy), (accounts["subsidy_income"], -subsidy)]
        bind.execute(
            sa.text("INSERT INTO journal_lines (entry_id, account_id, amount) VALUES (:e, :a, :m)"),
            [{"e": entry_id, "a": a, "m": m} for a, m in legs],
        )
        bind.execute(
            sa.text(
                "INSERT INTO journal_entries (id, posted_on, value_date, kind, loan_id, memo, "
                "created_at) VALUES (:id, :on, :on, 'opening', :loan, :memo, :now)"
            ),
            {
                "id": entry_id,
                "on": today,
                "loan": loan_id,
                "now": now,
                "memo": "Opening entry: the incentive subsidy receivable",
            },  # fmt: skip
        )
    if not sqlite:
        bind.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('journal_entries', 'id'), "
                "(SELECT max(id) FROM journal_entries))"
            )
        )


def downgrade() -> None:
    bind = op.get_bind()
    restore = "SELECT 1 FROM gl_accounts WHERE role = 'write_off_expense'"
    if not bind.execute(sa.text(restore)).first():
        bind.execute(
            sa.text(
                "INSERT INTO gl_accounts (code, role, kind, name, name_ur, created_at) VALUES "
                "('5200', 'write_off_expense', 'expense', 'Loans written off', :ur, :now)"
            ),
            {
                "ur": "معاف (رائٹ آف) شدہ قرضے",
                "now": UTCDateTime().process_bind_param(datetime.now(UTC), bind.dialect),
            },
        )
    # The accounts go unless an entry or a product uses them (entries are never deleted; on
    # the way down to 0008 migration 0009 drops the whole ledger).
    codes = ", ".join(f"'{c}'" for c, *_ in ACCOUNTS)
    op.execute(
        f"DELETE FROM gl_accounts WHERE code IN ({codes}) "
        "AND id NOT IN (SELECT account_id FROM journal_lines) "
        "AND id NOT IN (SELECT account_id FROM gl_product_accounts)"
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_column("profit_recognised")
