"""Servicing records: what the retailer was paid for a loan, and borrower activation codes."""

from datetime import datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel

from lending.models.base import created_at, enum_field, money, timestamp
from lending.models.enums import DisbursementStatus
from lending.models.types import UTCDateTime


class Disbursement(SQLModel, table=True):
    """The payment to the shop for the phone: its price less the down payment it collected."""

    __tablename__ = "disbursements"

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", unique=True)
    retailer_id: int = Field(foreign_key="retailers.id", index=True)
    amount: Decimal = money()
    status: DisbursementStatus = enum_field(DisbursementStatus, default=DisbursementStatus.RECORDED)
    reversed_at: datetime | None = timestamp()
    created_at: datetime = created_at()


class ActivationCode(SQLModel, table=True):
    """A one-time code sent by SMS to open a borrower's portal account; only its digest is kept."""

    __tablename__ = "activation_codes"

    id: int | None = Field(default=None, primary_key=True)
    applicant_id: int = Field(foreign_key="applicants.id", index=True)
    code_hash: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    attempts: int = Field(default=0)
    used_at: datetime | None = timestamp()
    created_at: datetime = created_at()
