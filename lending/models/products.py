"""Loan products: every rule the engine applies is a field here, not a literal in code.

A product's terms are versioned: `products` holds the live version, `product_versions` a
snapshot of every version, so a loan booked under version N keeps N's terms after edits.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, UniqueConstraint, event, inspect
from sqlmodel import Field, SQLModel

from lending.models.base import created_at, enum_field, money, rate
from lending.models.enums import DayCount, Frequency, Method, Prepayment
from lending.models.types import utcnow


class ProductTerms(SQLModel):
    """The terms of one version of a product: what offers are priced and loans serviced by."""

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
    # An instalment short by no more than the larger of these is not overdue (fees, reminders,
    # locks): a few rupees of rounding or change never make a borrower late.
    arrears_tolerance_amount: Decimal = money(default=Decimal("0"))
    arrears_tolerance_pct: Decimal = rate(default=Decimal("0"))
    prepayment: Prepayment = enum_field(Prepayment, default=Prepayment.NEXT_INSTALMENTS)
    # Flat and Murabaha: the share of the unearned profit given back on early settlement (ibra).
    settlement_rebate_pct: Decimal = rate(default=Decimal("100"))
    # A payment may exceed what settles the loan by this much (change, rounding) without staff.
    overpayment_tolerance: Decimal = money(default=Decimal("100"))
    reminder_offsets: list[int] = Field(default_factory=lambda: [-3, 0, 1, 7, 30], sa_type=JSON)
    lock_after_dpd: int = Field(default=30)
    cooling_off_hours: int = Field(default=24)
    offer_valid_days: int = Field(default=7)


TERM_FIELDS = tuple(ProductTerms.model_fields)


class Product(ProductTerms, table=True):
    """A financing product at its live version; `version` increases on every change of terms."""

    __tablename__ = "products"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    active: bool = Field(default=True)
    version: int = Field(default=1)
    created_at: datetime = created_at()


class ProductVersion(ProductTerms, table=True):
    """The terms of one version of a product, as loans and applications booked under it."""

    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="products.id")
    version: int
    created_at: datetime = created_at()


@event.listens_for(Product, "before_update")
def _terms_change_only_with_a_new_version(mapper, connection, product: Product) -> None:
    """Refuse to rewrite the terms of a version that loans may already be booked under."""
    state = inspect(product)
    changed = [f for f in TERM_FIELDS if state.attrs[f].history.has_changes()]
    if changed and not state.attrs.version.history.has_changes():
        raise ValueError(f"Product terms {changed} changed without a new version.")


@event.listens_for(Product, "after_insert")
def _snapshot_first_version(mapper, connection, product: Product) -> None:
    """Write the snapshot of a new product's version in the same transaction."""
    _snapshot(connection, product)


@event.listens_for(Product, "after_update")
def _snapshot_new_version(mapper, connection, product: Product) -> None:
    """Write the snapshot of a product's new version in the same transaction."""
    if inspect(product).attrs.version.history.has_changes():
        _snapshot(connection, product)


def _snapshot(connection, product: Product) -> None:
    row = {field: getattr(product, field) for field in TERM_FIELDS}
    connection.execute(
        ProductVersion.__table__.insert().values(
            **row, product_id=product.id, version=product.version, created_at=utcnow()
        )
    )
