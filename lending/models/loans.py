"""Booked loans, their instalments and the fees charged on them."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import JSON, UniqueConstraint
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
)


class Loan(SQLModel, table=True):
    """A booked loan; its terms are copied from the product so later edits never change it."""

    __tablename__ = "loans"
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
    incentive_tags: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = created_at()


class Instalment(SQLModel, table=True):
    """One scheduled instalment and how much of each part has been paid."""

    __tablename__ = "instalments"
    __table_args__ = (UniqueConstraint("loan_id", "n"),)

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
    paid_on: date | None = Field(default=None)


class Fee(SQLModel, table=True):
    """A charge on a loan: processing, or a late fee (once per overdue instalment)."""

    __tablename__ = "fees"
    __table_args__ = (UniqueConstraint("instalment_id", "kind"),)

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
