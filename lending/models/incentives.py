"""Incentive programmes for locally assembled phones, and the loans they tagged."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from lending.models.base import created_at, money, rate


class IncentiveProgramme(SQLModel, table=True):
    """One version of a programme; an edit adds a version, so booked tags never change."""

    __tablename__ = "incentive_programmes"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, index=True)
    version: int = Field(default=1)
    current: bool = Field(default=True)  # the live version of its code
    name: str = Field(max_length=120)
    sponsor: str = Field(max_length=120)
    valid_from: date
    valid_to: date
    local_only: bool = Field(default=True)
    max_device_price: Decimal | None = money(optional=True)
    markup_discount_bp: int = Field(default=0)  # basis points off the annual rate
    min_down_payment_pct: Decimal | None = rate(optional=True)  # a lower minimum, percent
    subsidy_per_loan: Decimal = money(default=Decimal("0"))  # claimed from the sponsor
    budget_count: int | None = Field(default=None)
    budget_amount: Decimal | None = money(optional=True)  # cap on subsidy committed
    # Shared by every version of a code (copied forward on edit), consumed atomically.
    used_count: int = Field(default=0)
    used_amount: Decimal = money(default=Decimal("0"))
    created_at: datetime = created_at()


class LoanIncentive(SQLModel, table=True):
    """A programme's tag on a booked loan: a snapshot the claims report sums."""

    __tablename__ = "loan_incentives"
    __table_args__ = (UniqueConstraint("loan_id", "programme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    programme_id: int = Field(foreign_key="incentive_programmes.id", index=True)
    programme_code: str = Field(max_length=32)
    programme_version: int
    manufacturer_id: int | None = Field(default=None, foreign_key="manufacturers.id")
    markup_discount_bp: int = Field(default=0)
    subsidy: Decimal = money(default=Decimal("0"))
