"""Payments received on loans and how each was allocated."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from lending.models.base import created_at, enum_field, money, timestamp
from lending.models.enums import PaymentChannel, PaymentStatus
from lending.models.types import UTCDateTime


class Payment(SQLModel, table=True):
    """A payment, posted exactly once: the idempotency key and the gateway reference are unique."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        # A gateway's reference is unique on its rail; a shop's receipt number within the shop.
        UniqueConstraint("channel", "scope", "reference"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("unapplied >= 0 AND unapplied <= amount", name="unapplied"),
    )

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    amount: Decimal = money()
    unapplied: Decimal = money(default=Decimal("0"))
    paid_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    channel: PaymentChannel = enum_field(PaymentChannel)
    reference: str | None = Field(default=None, max_length=80)
    scope: str = Field(default="", max_length=40)  # "" for gateways, "r<retailer id>" counters
    idempotency_key: str | None = Field(default=None, max_length=120)
    request_hash: str = Field(default="", max_length=64)
    response: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    status: PaymentStatus = enum_field(PaymentStatus, default=PaymentStatus.POSTED)
    posted_by_id: int | None = Field(default=None, foreign_key="users.id")
    reversed_at: datetime | None = timestamp()
    created_at: datetime = created_at()


class PaymentAllocation(SQLModel, table=True):
    """A change to the part of a payment applied to one instalment (and its late fee).

    Append-only and signed: when a replay moves a payment's money (a reversal or a backdated
    payment before it), the difference is appended under the transaction that caused it. A
    payment's allocation is the sum of its rows.
    """

    __tablename__ = "payment_allocations"

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payments.id", index=True)
    transaction_id: int | None = Field(default=None, foreign_key="loan_transactions.id")
    instalment_id: int = Field(foreign_key="instalments.id", index=True)
    late_fee: Decimal = money(default=Decimal("0"))
    fee: Decimal = money(default=Decimal("0"))
    profit: Decimal = money(default=Decimal("0"))
    principal: Decimal = money(default=Decimal("0"))
