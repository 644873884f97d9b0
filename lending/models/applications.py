"""Applicants, their device-loan applications and the decisions taken on them."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from lending.models.base import created_at, enum_field, money, rate, timestamp
from lending.models.enums import ApplicationStatus, DecisionKind, EmploymentType, Language


class Applicant(SQLModel, table=True):
    """A person, identified by the CNIC (13 digits, stored without dashes)."""

    __tablename__ = "applicants"

    id: int | None = Field(default=None, primary_key=True)
    cnic: str = Field(max_length=13, unique=True)
    full_name: str = Field(max_length=120)
    date_of_birth: date
    mobile: str = Field(max_length=16)  # E.164
    email: str | None = Field(default=None, max_length=254)
    language: Language = enum_field(Language, default=Language.ENGLISH)
    created_at: datetime = created_at()


class Application(SQLModel, table=True):
    """One device-loan application taken at a shop, with the offer made on it."""

    __tablename__ = "applications"
    owner_fields: ClassVar[dict[str, str]] = {"retailer": "retailer_id", "borrower": "applicant_id"}

    id: int | None = Field(default=None, primary_key=True)
    retailer_id: int = Field(foreign_key="retailers.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    applicant_id: int = Field(foreign_key="applicants.id", index=True)
    product_id: int = Field(foreign_key="products.id")
    product_version: int = Field(default=1)
    monthly_income: Decimal = money()
    monthly_obligations: Decimal = money(default=Decimal("0"))
    employment_type: EmploymentType = enum_field(EmploymentType)
    imei: str = Field(max_length=15, index=True)
    device_model_id: int | None = Field(default=None, foreign_key="device_models.id")
    device_price: Decimal = money()
    down_payment: Decimal = money()
    tenor: int
    status: ApplicationStatus = enum_field(ApplicationStatus, index=True)
    score: int | None = Field(default=None)
    dbr_pct: Decimal | None = rate(optional=True)
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    incentive_tags: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    offer: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # the offer document
    offer_expires_at: datetime | None = timestamp()
    created_at: datetime = created_at()


class Decision(SQLModel, table=True):
    """A decision on an application: the engine's, or an underwriter's with a note."""

    __tablename__ = "decisions"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    kind: DecisionKind = enum_field(DecisionKind)
    status: ApplicationStatus = enum_field(ApplicationStatus)
    score: int | None = Field(default=None)
    points: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    scorecard_version: str = Field(default="", max_length=40)
    bureau: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
    note: str = Field(default="", max_length=2000)
    created_at: datetime = created_at()
