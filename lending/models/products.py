"""Loan products: every rule the engine applies is a field here, not a literal in code."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from lending.models.base import created_at, enum_field, money, rate
from lending.models.enums import DayCount, Frequency, Method


class Product(SQLModel, table=True):
    """A financing product; `version` increases on every edit, loans keep their own terms."""

    __tablename__ = "products"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=120)
    method: Method = enum_field(Method)
    islamic: bool = Field(default=False)
    frequency: Frequency = enum_field(Frequency, default=Frequency.MONTHLY)
    day_count: DayCount = enum_field(DayCount, default=DayCount.D30_360)
    annual_rate: Decimal = rate()  # percent a year (markup rate for Murabaha)
    tenors: list[int] = Field(default_factory=list, sa_type=JSON)
    processing_fee_pct: Decimal = rate(default=Decimal("0"))
    processing_fee_fixed: Decimal = money(default=Decimal("0"))
    fee_financed: bool = Field(default=False)
    min_down_payment_pct: Decimal = rate(default=Decimal("20"))
    min_price: Decimal = money(default=Decimal("10000"))
    max_price: Decimal = money(default=Decimal("500000"))
    max_dbr_pct: Decimal = rate(default=Decimal("40"))  # SBP BPRD CL 29 of 2021
    rounding: Decimal = rate(default=Decimal("1"))
    roll_holidays: bool = Field(default=True)
    late_fee_fixed: Decimal = money(default=Decimal("0"))
    late_fee_pct: Decimal = rate(default=Decimal("0"))
    late_fee_cap: Decimal | None = money(optional=True)
    grace_days: int = Field(default=3)
    reminder_offsets: list[int] = Field(default_factory=lambda: [-3, 0, 1, 7, 30], sa_type=JSON)
    lock_after_dpd: int = Field(default=30)
    cooling_off_hours: int = Field(default=24)
    offer_valid_days: int = Field(default=7)
    active: bool = Field(default=True)
    version: int = Field(default=1)
    created_at: datetime = created_at()
