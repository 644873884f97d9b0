"""Booked loans, their instalments and the fees charged on them."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from lending.models.base import created_at, enum_field, money, rate, timestamp
from lending.models.enums import (
    Bucket,
    Classification,
    DayCount,
    FeeKind,
    Frequency,
    LoanStatus,
    Method,
    Prepayment,
    TxnKind,
)

UNCHARGED = "late_fee = 0 AND paid_principal + paid_profit + paid_fee < total"


class Loan(SQLModel, table=True):
    """A booked loan; its terms are copied from the product so later edits never change it."""

    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint("principal > 0", name="principal_positive"),
        CheckConstraint("credit_balance >= 0", name="credit_not_negative"),
        CheckConstraint("days_past_due >= 0", name="dpd_not_negative"),
    )
    owner_fields: ClassVar[dict[str, str]] = {"retailer": "retailer_id", "borrower": "applicant_id"}

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", unique=True)
    applicant_id: int = Field(foreign_key="applicants.id", index=True)
    retailer_id: int = Field(foreign_key="retailers.id", index=True)
    product_id: int = Field(foreign_key="products.id")
    product_version: int = Field(default=1)
    imei: str = Field(max_length=15, index=True)
    method: Method = enum_field(Method)
    frequency: Frequency = enum_field(Frequency)
    day_count: DayCount = enum_field(DayCount)
    islamic: bool = Field(default=False)
    annual_rate: Decimal = rate()
    device_price: Decimal = money()
    down_payment: Decimal = money()
    principal: Decimal = money()  # the financed amount
    instalment_amount: Decimal = money()
    instalments_count: int
    apr: Decimal = rate()
    total_payable: Decimal = money()
    disbursed_on: date
    first_due_on: date
    maturity_on: date
    status: LoanStatus = enum_field(LoanStatus, default=LoanStatus.ACTIVE, index=True)
    days_past_due: int = Field(default=0)
    bucket: Bucket = enum_field(Bucket, default=Bucket.CURRENT)
    classification: Classification = enum_field(Classification, default=Classification.REGULAR)
    aged_on: date | None = Field(default=None)
    device_locked: bool = Field(default=False)
    device_released: bool = Field(default=False)
    cooling_off_until: datetime | None = timestamp()
    closed_on: date | None = Field(default=None)
    # Servicing terms copied from the product version at booking.
    arrears_tolerance_amount: Decimal = money(default=Decimal("0"))
    arrears_tolerance_pct: Decimal = rate(default=Decimal("0"))
    prepayment: Prepayment = enum_field(Prepayment, default=Prepayment.NEXT_INSTALMENTS)
    settlement_rebate_pct: Decimal = rate(default=Decimal("100"))
    # The replay's result: money received beyond what settled the loan, until refunded.
    credit_balance: Decimal = money(default=Decimal("0"))
    # On the accrual basis, the profit the ledger has recognised on this loan (the night's
    # accrual step); the profit receivable is this less the profit paid.
    profit_recognised: Decimal = money(default=Decimal("0"))
    # Where the last replay left off, so that a payment dated after every other transaction
    # is applied to the stored state instead of replaying the whole history: the latest value
    # date of an input transaction, and the current period's accrual (its instalment index,
    # up to when, and the balance x days accrued in it, in paisa-days).
    inputs_through: date | None = Field(default=None)
    accrual_index: int | None = Field(default=None)
    accrual_mark: date | None = Field(default=None)
    accrual_balance_days: int = Field(default=0, sa_type=BigInteger)
    incentive_tags: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = created_at()


class Instalment(SQLModel, table=True):
    """One scheduled instalment and what has been paid of each part.

    The paid columns are the replay of the loan's transactions (`services/replay.py`), written
    only from it and checked against it every night; the transactions are the record.
    """

    __tablename__ = "instalments"
    __table_args__ = (
        UniqueConstraint("loan_id", "n"),
        CheckConstraint(
            "principal >= 0 AND profit >= 0 AND fee >= 0 AND tolerance >= 0",
            name="due_not_negative",
        ),
        CheckConstraint(
            "paid_principal >= 0 AND paid_principal <= principal", name="principal_paid"
        ),
        CheckConstraint("paid_profit >= 0 AND paid_profit <= profit", name="profit_paid"),
        CheckConstraint("paid_fee >= 0 AND paid_fee <= fee", name="fee_paid"),
        CheckConstraint(
            "late_fee >= 0 AND late_fee_waived >= 0 AND late_fee_waived <= late_fee",
            name="late_fee_waived",
        ),
        CheckConstraint(
            "paid_late_fee >= 0 AND paid_late_fee + late_fee_waived <= late_fee",
            name="late_fee_paid",
        ),
        # What the night's late-fee step reads: not charged, not paid in full (migration 0008).
        Index(
            "ix_instalments_uncharged",
            "due_date",
            postgresql_where=text(UNCHARGED),
            sqlite_where=text(UNCHARGED),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    n: int
    due_date: date = Field(index=True)
    principal: Decimal = money()
    profit: Decimal = money()
    fee: Decimal = money(default=Decimal("0"))
    total: Decimal = money()
    balance_after: Decimal = money()
    paid_principal: Decimal = money(default=Decimal("0"))
    paid_profit: Decimal = money(default=Decimal("0"))
    paid_fee: Decimal = money(default=Decimal("0"))
    # The late fee charged on this instalment (0 or one charge), waived and paid of it.
    late_fee: Decimal = money(default=Decimal("0"))
    late_fee_waived: Decimal = money(default=Decimal("0"))
    paid_late_fee: Decimal = money(default=Decimal("0"))
    paid_on: date | None = Field(default=None)
    # Unpaid up to this much (the loan's arrears tolerance for this instalment's total), it is
    # not overdue: kept as money so that SQL compares exact amounts.
    tolerance: Decimal = money(default=Decimal("0"))


class Fee(SQLModel, table=True):
    """A processing fee charged at booking (late fees are loan transactions)."""

    __tablename__ = "fees"
    __table_args__ = (
        UniqueConstraint("instalment_id", "kind"),
        CheckConstraint("amount >= 0 AND paid_amount >= 0 AND paid_amount <= amount", name="paid"),
    )

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    instalment_id: int | None = Field(default=None, foreign_key="instalments.id")
    kind: FeeKind = enum_field(FeeKind)
    amount: Decimal = money()
    paid_amount: Decimal = money(default=Decimal("0"))
    charity: bool = Field(default=False)  # Islamic late charges go to charity, not income
    assessed_on: date
    waived_at: datetime | None = timestamp()
    created_at: datetime = created_at()


class LoanTransaction(SQLModel, table=True):
    """One dated money event of a loan; append-only (the database refuses UPDATE and DELETE).

    Inputs of the replay: disbursement, payment, reversal (of a payment), waiver, refund.
    Results of it, appended when a replay changes them: late-fee charges and their reversals.
    """

    __tablename__ = "loan_transactions"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        # The nightly replay check reads what was recorded since the night before.
        Index("ix_loan_transactions_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    kind: TxnKind = enum_field(TxnKind)
    value_date: date
    amount: Decimal = money()
    instalment_n: int | None = Field(default=None)
    payment_id: int | None = Field(default=None, foreign_key="payments.id", index=True)
    reverses_id: int | None = Field(default=None, foreign_key="loan_transactions.id")
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    note: str = Field(default="", max_length=500)
    created_at: datetime = created_at()
