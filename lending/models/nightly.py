"""Rows the nightly run keeps: payments received from settlement files, month-end snapshots."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from lending.models.base import created_at, enum_field, money
from lending.models.enums import Bucket, PaymentChannel, ReceiptStatus
from lending.models.types import UTCDateTime


class PaymentReceipt(SQLModel, table=True):
    """A payment a wallet or bank reported (settlement file) that the nightly run posts."""

    __tablename__ = "payment_receipts"
    __table_args__ = (UniqueConstraint("channel", "reference"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: PaymentChannel = enum_field(PaymentChannel)
    reference: str = Field(max_length=80)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    amount: Decimal = money()
    paid_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: ReceiptStatus = enum_field(ReceiptStatus, default=ReceiptStatus.RECEIVED, index=True)
    payment_id: int | None = Field(default=None, foreign_key="payments.id")
    error: str = Field(default="", max_length=500)
    created_at: datetime = created_at()


class LoanSnapshot(SQLModel, table=True):
    """A loan's ageing at a month end: the history roll rates are computed from."""

    __tablename__ = "loan_snapshots"
    __table_args__ = (UniqueConstraint("as_of", "loan_id"),)

    id: int | None = Field(default=None, primary_key=True)
    as_of: date = Field(index=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    days_past_due: int
    bucket: Bucket = enum_field(Bucket)
    outstanding_principal: Decimal = money()


class JobBatch(SQLModel, table=True):
    """A key range of loans for a step of one night, claimed by a worker (SKIP LOCKED)."""

    __tablename__ = "job_batches"

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=60)
    as_of: date = Field(index=True)
    lo: int
    hi: int
    done: bool = Field(default=False)
