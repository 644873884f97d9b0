"""replayed servicing: loan transactions, late fees on instalments, CHECK constraints

A loan's money state becomes the replay of its dated transactions. This migration adds the
append-only `loan_transactions` log (the database refuses UPDATE and DELETE on it and on the
signed `payment_allocations`), moves late fees from `fees` onto their instalments (one
LATE_FEE transaction each), writes the disbursement, payment and reversal transactions of the
loans already booked, scopes counter receipt numbers to their shop, and adds the servicing
terms (arrears tolerance, prepayment, settlement rebate, overpayment tolerance) to products
and loans. The next night's replay check holds every migrated loan to its replay.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:00:02
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from lending.models.types import Money, Rate, UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TERMS = (
    ("arrears_tolerance_amount", Money(), "0"),
    ("arrears_tolerance_pct", Rate(), "0"),
    ("prepayment", sa.String(length=32), "next_instalments"),
    ("settlement_rebate_pct", Rate(), "100"),
)
COUNTER = ("cash", "card")
INPUT_KINDS = ("disbursement", "payment", "reversal", "waiver", "refund")
APPEND_ONLY = ("loan_transactions", "payment_allocations")
KARACHI = ZoneInfo("Asia/Karachi")


def _add(batch_op, name, type_, default) -> None:
    batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=_literal(default)))


def _literal(default: str):
    # Money is whole paisa on SQLite: "0" is the same there; "100" rupees is not.
    return sa.text(f"'{default}'")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "loan_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("instalment_n", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_loan_transactions_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_loan_transactions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_transactions_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_loan_transactions_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["loan_transactions.id"],
            name=op.f("fk_loan_transactions_reverses_id_loan_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_transactions")),
    )
    with op.batch_alter_table("loan_transactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_transactions_loan_id"), ["loan_id"])
        batch_op.create_index(batch_op.f("ix_loan_transactions_payment_id"), ["payment_id"])

    for table in ("products", "product_versions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, type_, default in TERMS:
                _add(batch_op, name, type_, default)
            _add(batch_op, "overpayment_tolerance", Money(), "10000" if sqlite else "100")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        for name, type_, default in TERMS:
            _add(batch_op, name, type_, default)
        _add(batch_op, "credit_balance", Money(), "0")
        # Left empty here: a migrated loan's first payment replays it in full and sets them.
        batch_op.add_column(sa.Column("inputs_through", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("accrual_index", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("accrual_mark", sa.Date(), nullable=True))
        _add(batch_op, "accrual_balance_days", sa.BigInteger(), "0")
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        for name in ("late_fee", "late_fee_waived", "paid_late_fee", "tolerance"):
            _add(batch_op, name, Money(), "0")
    with op.batch_alter_table("payment_allocations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transaction_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_allocations_transaction_id_loan_transactions"),
            "loan_transactions",
            ["transaction_id"],
            ["id"],
        )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.drop_constraint("uq_payments_channel_reference", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_payments_channel_scope_reference"), ["channel", "scope", "reference"]
        )

    _move_data(op.get_bind())
    _add_checks()
    _append_only(sqlite)


def _move_data(bind) -> None:
    """Write the transactions of the loans already booked; move late fees onto instalments."""
    meta = sa.MetaData()
    txns = sa.Table("loan_transactions", meta, autoload_with=bind)
    loans = sa.Table("loans", meta, autoload_with=bind)
    payments = sa.Table("payments", meta, autoload_with=bind)
    allocations = sa.Table("payment_allocations", meta, autoload_with=bind)
    fees = sa.Table("fees", meta, autoload_with=bind)
    instalments = sa.Table("instalments", meta, autoload_with=bind)
    money = Money()
    dialect = bind.dialect

    def cash(value):  # a Money value as the database returns it, back to Decimal
        return money.process_result_value(value, dialect)

    def bind_money(value):
        return money.process_bind_param(value, dialect)

    now = UTCDateTime().process_bind_param(datetime.now(UTC), dialect)
    row = {"note": "migrated", "created_at": now}
    for loan in bind.execute(sa.select(loans.c.id, loans.c.disbursed_on, loans.c.principal)):
        bind.execute(
            txns.insert().values(
                loan_id=loan.id,
                kind="disbursement",
                value_date=loan.disbursed_on,
                amount=loan.principal,
                **row,
            )
        )
    for pay in bind.execute(sa.select(payments).order_by(payments.c.id)).mappings().all():
        paid_at = UTCDateTime().process_result_value(pay["paid_at"], dialect)
        txn_id = bind.execute(
            txns.insert()
            .values(
                loan_id=pay["loan_id"],
                kind="payment",
                payment_id=pay["id"],
                value_date=paid_at.astimezone(KARACHI).date(),
                amount=pay["amount"],
                **row,
            )
            .returning(txns.c.id)
        ).scalar_one()
        bind.execute(
            allocations.update()
            .where(allocations.c.payment_id == pay["id"])
            .values(transaction_id=txn_id)
        )
        if pay["channel"] in COUNTER:
            retailer = bind.execute(
                sa.select(loans.c.retailer_id).where(loans.c.id == pay["loan_id"])
            ).scalar_one()
            bind.execute(
                payments.update().where(payments.c.id == pay["id"]).values(scope=f"r{retailer}")
            )
        if pay["status"] == "reversed":
            reversed_at = UTCDateTime().process_result_value(pay["reversed_at"], dialect)
            reversal = bind.execute(
                txns.insert()
                .values(
                    loan_id=pay["loan_id"],
                    kind="reversal",
                    payment_id=pay["id"],
                    reverses_id=txn_id,
                    amount=pay["amount"],
                    value_date=(reversed_at or paid_at).astimezone(KARACHI).date(),
                    **row,
                )
                .returning(txns.c.id)
            ).scalar_one()
            # The old reversal subtracted the paid columns; its allocation rows stayed. Net them.
            for line in (
                bind.execute(sa.select(allocations).where(allocations.c.payment_id == pay["id"]))
                .mappings()
                .all()
            ):
                bind.execute(
                    allocations.insert().values(
                        payment_id=pay["id"],
                        instalment_id=line["instalment_id"],
                        transaction_id=reversal,
                        **{
                            p: bind_money(-cash(line[p]))
                            for p in ("late_fee", "fee", "profit", "principal")
                        },
                    )
                )
    for fee in bind.execute(sa.select(fees).where(fees.c.kind == "late")).mappings().all():
        item = bind.execute(
            sa.select(instalments.c.n).where(instalments.c.id == fee["instalment_id"])
        ).scalar_one()
        waived = fee["waived_at"] is not None
        amount, paid = cash(fee["amount"]), cash(fee["paid_amount"])
        bind.execute(
            instalments.update()
            .where(instalments.c.id == fee["instalment_id"])
            .values(
                late_fee=bind_money(amount),
                paid_late_fee=bind_money(paid),
                late_fee_waived=bind_money(amount - paid if waived else 0),
            )
        )
        charge = bind.execute(
            txns.insert()
            .values(
                loan_id=fee["loan_id"],
                kind="late_fee",
                instalment_n=item,
                value_date=fee["assessed_on"],
                amount=fee["amount"],
                **row,
            )
            .returning(txns.c.id)
        ).scalar_one()
        if waived:
            bind.execute(
                txns.insert().values(
                    loan_id=fee["loan_id"],
                    kind="waiver",
                    instalment_n=item,
                    reverses_id=charge,
                    value_date=UTCDateTime()
                    .process_result_value(fee["waived_at"], dialect)
                    .astimezone(KARACHI)
                    .date(),
                    amount=bind_money(amount - paid),
                    **row,
                )
            )
    bind.execute(fees.delete().where(fees.c.kind == "late"))
    latest = (
        sa.select(sa.func.max(txns.c.value_date))
        .where(txns.c.loan_id == loans.c.id, txns.c.kind.in_(INPUT_KINDS))
        .scalar_subquery()
    )
    bind.execute(loans.update().values(inputs_through=latest))


CHECKS = {
    "loans": (
        ("principal_positive", "principal > 0"),
        ("credit_not_negative", "credit_balance >= 0"),
        ("dpd_not_negative", "days_past_due >= 0"),
    ),
    "instalments": (
        ("due_not_negative", "principal >= 0 AND profit >= 0 AND fee >= 0 AND tolerance >= 0"),
        ("principal_paid", "paid_principal >= 0 AND paid_principal <= principal"),
        ("profit_paid", "paid_profit >= 0 AND paid_profit <= profit"),
        ("fee_paid", "paid_fee >= 0 AND paid_fee <= fee"),
        (
            "late_fee_waived",
            "late_fee >= 0 AND late_fee_waived >= 0 AND late_fee_waived <= late_fee",
        ),
        ("late_fee_paid", "paid_late_fee >= 0 AND paid_late_fee + late_fee_waived <= late_fee"),
    ),
    "fees": (("paid", "amount >= 0 AND paid_amount >= 0 AND paid_amount <= amount"),),
    "payments": (
        ("amount_positive", "amount > 0"),
        ("unapplied", "unapplied >= 0 AND unapplied <= amount"),
    ),
}


def _add_checks() -> None:
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, condition in checks:
                batch_op.create_check_constraint(name, condition)


def _move_data_back(bind) -> None:
    """Late fees back to `fees` rows; each payment's allocation back to what it first wrote
    (0006 kept those rows and took a reversal off the paid columns, which stay as they are)."""
    meta = sa.MetaData()
    txns = sa.Table("loan_transactions", meta, autoload_with=bind)
    fees = sa.Table("fees", meta, autoload_with=bind)
    instalments = sa.Table("instalments", meta, autoload_with=bind)
    allocations = sa.Table("payment_allocations", meta, autoload_with=bind)
    money, stamp = Money(), UTCDateTime()
    dialect = bind.dialect
    now = stamp.process_bind_param(datetime.now(UTC), dialect)
    charged = sa.select(instalments).where(instalments.c.late_fee != 0)
    loans = sa.Table("loans", meta, autoload_with=bind)
    islamic = dict(bind.execute(sa.select(loans.c.id, loans.c.islamic)).all())
    for item in bind.execute(charged).mappings().all():
        waived = money.process_result_value(item["late_fee_waived"], dialect)
        assessed = bind.execute(
            sa.select(sa.func.max(txns.c.value_date)).where(
                txns.c.loan_id == item["loan_id"],
                txns.c.kind == "late_fee",
                txns.c.instalment_n == item["n"],
            )
        ).scalar_one()
        bind.execute(
            fees.insert().values(
                loan_id=item["loan_id"],
                instalment_id=item["id"],
                kind="late",
                charity=bool(islamic[item["loan_id"]]),
                amount=item["late_fee"],
                paid_amount=item["paid_late_fee"],
                assessed_on=assessed,
                waived_at=now if waived > 0 else None,
                created_at=now,
            )
        )
    own = sa.select(txns.c.id).where(
        txns.c.kind == "payment", txns.c.payment_id == allocations.c.payment_id
    )
    bind.execute(allocations.delete().where(allocations.c.transaction_id.not_in(own)))


def _append_only(sqlite: bool) -> None:
    """The database itself refuses to edit or delete the money record."""
    if not sqlite:
        op.execute(
            "CREATE FUNCTION lending_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME; END $$"
        )
    for table in APPEND_ONLY:
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


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in APPEND_ONLY:
        for action in ("update", "delete"):
            on = "" if sqlite else f" ON {table}"
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}{on}")
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS lending_append_only()")
    _move_data_back(op.get_bind())
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in checks:
                batch_op.drop_constraint(name, type_="check")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_payments_channel_scope_reference", type_="unique")
        batch_op.create_unique_constraint("uq_payments_channel_reference", ["channel", "reference"])
        batch_op.drop_column("scope")
    with op.batch_alter_table("payment_allocations", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_payment_allocations_transaction_id_loan_transactions", type_="foreignkey"
        )
        batch_op.drop_column("transaction_id")
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        for name in ("tolerance", "paid_late_fee", "late_fee_waived", "late_fee"):
            batch_op.drop_column(name)
    with op.batch_alter_table("loans", schema=None) as batch_op:
        for name in ("accrual_balance_days", "accrual_mark", "accrual_index", "inputs_through"):
            batch_op.drop_column(name)
        batch_op.drop_column("credit_balance")
        for name, _, _ in reversed(TERMS):
            batch_op.drop_column(name)
    for table in ("product_versions", "products"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("overpayment_tolerance")
            for name, _, _ in reversed(TERMS):
                batch_op.drop_column(name)
    with op.batch_alter_table("loan_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_transactions_payment_id"))
        batch_op.drop_index(batch_op.f("ix_loan_transactions_loan_id"))
    op.drop_table("loan_transactions")
