"""ledger: chart of accounts, journal entries and lines, closed periods; opening entries

The general ledger. The database itself holds its rules:
- the lines of an entry sum to zero and there are at least two: on PostgreSQL a deferred
  constraint trigger checks each entry at commit (django-hordak's `check_leg` trigger); on
  SQLite, which has no deferred triggers, an entry's row is written after its lines and a
  trigger refuses it unless they balance, another refuses a line for an entry already written,
  and the lines' foreign key to their entry is deferred, so lines left without an entry fail
  the commit;
- entries, lines and closes are append-only (UPDATE and DELETE refused);
- no entry is posted on or before the last closed date.

The chart is seeded here (one lender per database; codes and roles are what postings use). A
database with loans already booked gets one opening entry per loan that states what its
transactions moved: the booking (principal, the shop's payable, the financed fee), the money
received per channel less refunds, and where it went (principal repaid, profit, fees, late
charges or charity, credit balances), so that every tie-out holds from the first night.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 22:00:00
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from lending.models.types import Money, UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# code, role, kind, name, Urdu name
CHART = (
    ("1100", "bank", "asset", "Bank - operating account", "بینک - آپریٹنگ اکاؤنٹ"),
    ("1111", "clearing_cash", "asset", "Cash collected at shops", "دکانوں پر وصول شدہ نقد"),
    (
        "1112",
        "clearing_card",
        "asset",
        "Card payments at shops (clearing)",
        "دکانوں پر کارڈ ادائیگیاں (کلیئرنگ)",
    ),
    (
        "1121",
        "clearing_bank_transfer",
        "asset",
        "Bank transfers (clearing)",
        "بینک ٹرانسفر (کلیئرنگ)",
    ),
    ("1122", "clearing_jazzcash", "asset", "JazzCash (clearing)", "جاز کیش (کلیئرنگ)"),
    ("1123", "clearing_easypaisa", "asset", "Easypaisa (clearing)", "ایزی پیسہ (کلیئرنگ)"),
    ("1124", "clearing_raast", "asset", "Raast (clearing)", "راست (کلیئرنگ)"),
    (
        "1200",
        "loan_principal",
        "asset",
        "Loans to borrowers - principal",
        "قرض گیروں کو قرضے - اصل رقم",
    ),
    (
        "2100",
        "shop_payable",
        "liability",
        "Payable to shops for financed phones",
        "فون کی قیمت دکانوں کو قابلِ ادائیگی",
    ),
    (
        "2200",
        "borrower_credit",
        "liability",
        "Borrowers' credit balances",
        "قرض گیروں کے کریڈٹ بیلنس",
    ),
    (
        "2300",
        "charity_payable",
        "liability",
        "Charity payable (Islamic late charges)",
        "خیرات کے لیے قابلِ ادائیگی (اسلامی تاخیری چارجز)",
    ),
    ("4100", "profit_income", "income", "Profit (markup) income", "منافع کی آمدنی"),
    ("4200", "fee_income", "income", "Fee income", "فیس کی آمدنی"),
    (
        "1290",
        "loan_loss_allowance",
        "asset",
        "Allowance for loan losses (contra)",
        "قرضوں کے نقصان کے لیے پروویژن (منفی اثاثہ)",
    ),
    ("4400", "recoveries", "income", "Recoveries of loans written off", "معاف شدہ قرضوں کی وصولی"),
    (
        "5100",
        "provision_expense",
        "expense",
        "Provision for loan losses",
        "قرضوں کے نقصان کا پروویژن",
    ),
    ("5200", "write_off_expense", "expense", "Loans written off", "معاف (رائٹ آف) شدہ قرضے"),
    ("4300", "late_charge_income", "income", "Late-payment charge income", "تاخیری چارجز کی آمدنی"),
)
APPEND_ONLY = ("journal_entries", "journal_lines", "ledger_closes")
KARACHI = ZoneInfo("Asia/Karachi")


def upgrade() -> None:
    _tables()
    sqlite = op.get_bind().dialect.name == "sqlite"
    _rules(sqlite)
    _seed_chart()
    _opening_entries(op.get_bind(), sqlite)


def _tables() -> None:
    op.create_table(
        "gl_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_ur", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gl_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_gl_accounts_code")),
        sa.UniqueConstraint("role", name=op.f("uq_gl_accounts_role")),
    )
    op.create_table(
        "gl_product_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["gl_accounts.id"],
            name=op.f("fk_gl_product_accounts_account_id_gl_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_gl_product_accounts_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gl_product_accounts")),
        sa.UniqueConstraint(
            "product_id", "role", name=op.f("uq_gl_product_accounts_product_id_role")
        ),
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_journal_entries_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_journal_entries_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_entries_reverses_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["loan_transactions.id"],
            name=op.f("fk_journal_entries_transaction_id_loan_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    op.create_index("ix_journal_entries_posted_on", "journal_entries", ["posted_on"])
    op.create_index(
        "ix_journal_entries_loan_id_posted_on", "journal_entries", ["loan_id", "posted_on"]
    )
    op.create_table(
        "journal_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_journal_lines_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["gl_accounts.id"], name=op.f("fk_journal_lines_account_id_gl_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_lines_entry_id_journal_entries"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_lines")),
    )
    op.create_index("ix_journal_lines_entry_id", "journal_lines", ["entry_id"])
    op.create_index(
        "ix_journal_lines_account_id_entry_id", "journal_lines", ["account_id", "entry_id"]
    )
    op.create_table(
        "ledger_closes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("closed_through", sa.Date(), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_ledger_closes_closed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_closes")),
    )


CLOSED = "(SELECT max(closed_through) FROM ledger_closes)"


def _rules(sqlite: bool) -> None:
    if sqlite:
        op.execute(
            "CREATE TRIGGER journal_entries_balanced BEFORE INSERT ON journal_entries BEGIN "
            "SELECT RAISE(ABORT, 'journal entry does not balance: its lines must sum to zero') "
            "WHERE (SELECT count(*) < 2 OR coalesce(sum(amount), 0) <> 0 FROM journal_lines "
            "WHERE entry_id = NEW.id); END"
        )
        op.execute(
            "CREATE TRIGGER journal_lines_entry_open BEFORE INSERT ON journal_lines BEGIN "
            "SELECT RAISE(ABORT, 'journal entry already posted: a correction is a new entry') "
            "WHERE EXISTS (SELECT 1 FROM journal_entries WHERE id = NEW.entry_id); END"
        )
        op.execute(
            "CREATE TRIGGER journal_entries_period_open BEFORE INSERT ON journal_entries BEGIN "
            "SELECT RAISE(ABORT, 'the period is closed: post in the open period') "
            f"WHERE NEW.posted_on <= {CLOSED}; END"
        )
        op.execute(
            "CREATE TRIGGER ledger_closes_forward BEFORE INSERT ON ledger_closes BEGIN "
            "SELECT RAISE(ABORT, 'a close never reopens a closed period') "
            f"WHERE NEW.closed_through <= {CLOSED}; END"
        )
    else:
        op.execute(
            "CREATE FUNCTION lending_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "DECLARE entry integer := (to_jsonb(NEW) ->> TG_ARGV[0])::integer; "
            "total numeric; legs integer; BEGIN "
            "SELECT coalesce(sum(amount), 0), count(*) INTO total, legs FROM journal_lines "
            "WHERE entry_id = entry; "
            "IF total <> 0 OR legs < 2 THEN RAISE EXCEPTION "
            "'journal entry % does not balance: % in % lines', entry, total, legs; "
            "END IF; RETURN NULL; END $$"
        )
        for table, key in (("journal_entries", "id"), ("journal_lines", "entry_id")):
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {table}_balanced AFTER INSERT ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                f"EXECUTE FUNCTION lending_entry_balanced('{key}')"
            )
        op.execute(
            "CREATE FUNCTION lending_period_open() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF NEW.posted_on <= {CLOSED} THEN RAISE EXCEPTION "
            "'the period is closed through %: post in the open period', "
            f"{CLOSED}; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER journal_entries_period_open BEFORE INSERT ON journal_entries "
            "FOR EACH ROW EXECUTE FUNCTION lending_period_open()"
        )
        op.execute(
            "CREATE FUNCTION lending_close_forward() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF NEW.closed_through <= {CLOSED} THEN RAISE EXCEPTION "
            "'a close never reopens a closed period'; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER ledger_closes_forward BEFORE INSERT ON ledger_closes "
            "FOR EACH ROW EXECUTE FUNCTION lending_close_forward()"
        )
    for table in APPEND_ONLY:  # lending_append_only() is migration 0007's
        for action in ("UPDATE", "DELETE"):
            name = f"{table}_no_{action.lower()}"
            if sqlite:
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END"
                )
            else:
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {action} ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION lending_append_only()"
                )


def _seed_chart() -> None:
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
            for c, r, k, n, u in CHART
        ],
    )


def _opening_entries(bind, sqlite: bool) -> None:
    """One entry per loan already booked (not cancelled), dated today, stating its history."""
    loans = bind.execute(
        sa.text(
            "SELECT l.id, l.principal, l.islamic, l.credit_balance, d.amount, "
            "f.amount, f.paid_amount FROM loans l "
            "LEFT JOIN disbursements d ON d.loan_id = l.id "
            "LEFT JOIN fees f ON f.loan_id = l.id AND f.kind = 'processing' "
            "WHERE l.status <> 'cancelled' ORDER BY l.id"
        )
    ).all()
    if not loans:
        return
    accounts = dict(bind.execute(sa.text("SELECT role, id FROM gl_accounts")).all())
    money = Money()

    def amount(value) -> Decimal:  # SQLite keeps integer paisa
        return Decimal(value).scaleb(-2) if sqlite else Decimal(value)

    paid = {
        row[0]: [amount(v or 0) for v in row[1:]]
        for row in bind.execute(
            sa.text(
                "SELECT loan_id, sum(paid_principal), sum(paid_profit), sum(paid_fee), "
                "sum(paid_late_fee) FROM instalments GROUP BY loan_id"
            )
        ).all()
    }
    received: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for loan_id, channel, total in bind.execute(
        sa.text(
            "SELECT loan_id, channel, sum(amount) FROM payments WHERE status = 'posted' "
            "GROUP BY loan_id, channel"
        )
    ).all():
        received[loan_id][f"clearing_{channel}"] += amount(total)
    for loan_id, total in bind.execute(
        sa.text(
            "SELECT loan_id, sum(amount) FROM loan_transactions WHERE kind = 'refund' "
            "GROUP BY loan_id"
        )
    ).all():
        received[loan_id]["bank"] -= amount(total)
    today = datetime.now(UTC).astimezone(KARACHI).date()
    now = datetime.now(UTC)
    entry_id = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM journal_entries")).scalar()
    for loan_id, principal, islamic, credit, disbursed, fee, fee_paid in loans:
        principal, credit = amount(principal), amount(credit)
        disbursed = amount(disbursed) if disbursed is not None else principal
        upfront = amount(fee_paid) if fee is not None else Decimal(0)
        repaid, profit, fees, late = paid.get(loan_id, [Decimal(0)] * 4)
        legs: dict[str, Decimal] = defaultdict(Decimal)
        legs["loan_principal"] += principal - repaid
        legs["shop_payable"] -= disbursed
        legs["fee_income"] -= principal - disbursed + upfront + fees
        legs["clearing_cash"] += upfront
        legs["profit_income"] -= profit
        legs["charity_payable" if islamic else "late_charge_income"] -= late
        legs["borrower_credit"] -= credit
        for role, value in received.get(loan_id, {}).items():
            legs[role] += value
        lines = [(accounts[r], v) for r, v in legs.items() if v != 0]
        if sum(v for _, v in lines) != 0:  # pragma: no cover - a book the replay check refused
            raise RuntimeError(f"loan {loan_id}: its opening entry does not balance: {legs}")
        entry_id += 1
        bind.execute(
            sa.text("INSERT INTO journal_lines (entry_id, account_id, amount) VALUES (:e, :a, :m)"),
            [
                {"e": entry_id, "a": a, "m": money.process_bind_param(v, bind.dialect)}
                for a, v in lines
            ],
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
                "memo": "Opening entry: the loan's history before the ledger",
                "now": UTCDateTime().process_bind_param(now, bind.dialect),
            },
        )
    if not sqlite:  # ids were given: move the sequence past them
        bind.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('journal_entries', 'id'), "
                "(SELECT max(id) FROM journal_entries))"
            )
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in ("ledger_closes_forward", "journal_entries_period_open"):
        table = "ledger_closes" if name.startswith("ledger") else "journal_entries"
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else f" ON {table}"))
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS journal_entries_balanced")
        op.execute("DROP TRIGGER IF EXISTS journal_lines_entry_open")
    else:
        for table in ("journal_entries", "journal_lines"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_balanced ON {table}")
        for function in ("lending_entry_balanced", "lending_period_open", "lending_close_forward"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    for table in APPEND_ONLY:
        for action in ("update", "delete"):
            op.execute(
                f"DROP TRIGGER IF EXISTS {table}_no_{action}" + ("" if sqlite else f" ON {table}")
            )
    op.drop_table("ledger_closes")
    op.drop_index("ix_journal_lines_account_id_entry_id", table_name="journal_lines")
    op.drop_index("ix_journal_lines_entry_id", table_name="journal_lines")
    op.drop_table("journal_lines")
    op.drop_index("ix_journal_entries_loan_id_posted_on", table_name="journal_entries")
    op.drop_index("ix_journal_entries_posted_on", table_name="journal_entries")
    op.drop_table("journal_entries")
    op.drop_table("gl_product_accounts")
    op.drop_table("gl_accounts")
