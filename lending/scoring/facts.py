"""What a credit decision looks at, as frozen plain values (no tables, no requests)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any


class BureauStatus(StrEnum):
    """What came back from the credit bureau."""

    OK = "ok"  # a report (possibly a clean "no file" one)
    UNAVAILABLE = "unavailable"  # down, timed out or unreadable: refer, never approve blind
    NOT_CONFIGURED = "not_configured"  # no bureau at all (the demo): noted on the decision


class EmploymentType(StrEnum):
    """How the applicant earns; the same values as lending.models.enums.EmploymentType."""

    # Scoring imports nothing from the models, so the set is repeated; a test keeps them equal.
    SALARIED = "salaried"
    SELF_EMPLOYED = "self_employed"
    FREELANCER = "freelancer"
    DAILY_WAGE = "daily_wage"
    OTHER = "other"


@dataclass(frozen=True, kw_only=True)
class BureauReport:
    """The credit bureau's answer about a CNIC."""

    status: BureauStatus
    overdue_accounts: int = 0
    outstanding: Decimal = Decimal("0")
    worst_dpd: int = 0  # worst days past due on any account in the report
    raw: dict[str, Any] | None = field(default=None, compare=False)  # kept for the record

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", BureauStatus(self.status))
        object.__setattr__(self, "outstanding", to_decimal(self.outstanding, "outstanding"))


@dataclass(frozen=True, kw_only=True)
class Policy:
    """The limits of a product and of the settings the hard rules check."""

    min_down_payment_pct: Decimal  # percent of the price: 25 means 25%
    min_price: Decimal  # rupees
    max_price: Decimal  # rupees
    allowed_tenors: tuple[int, ...]  # numbers of instalments the product offers
    # State Bank of Pakistan debt-burden cap (BPRD Circular Letter 29 of 2021; 50% before).
    max_dbr_pct: Decimal = Decimal("40")
    min_age: int = 18
    max_age_at_maturity: int = 65
    max_bureau_overdue_accounts: int = 0  # more overdue accounts than this declines
    max_bureau_worst_dpd: int = 30  # a worse delinquency than this many days declines

    def __post_init__(self) -> None:
        for name in ("min_down_payment_pct", "min_price", "max_price", "max_dbr_pct"):
            object.__setattr__(self, name, to_decimal(getattr(self, name), name))
        object.__setattr__(self, "allowed_tenors", tuple(int(t) for t in self.allowed_tenors))


@dataclass(frozen=True, kw_only=True)
class CreditFacts:
    """One application as the rules and the scorecard see it."""

    cnic: str  # as entered; the rules validate it
    date_of_birth: date
    as_of: date  # the application's business date
    maturity: date  # due date of the last instalment
    monthly_income: Decimal  # net, rupees
    monthly_obligations: Decimal  # existing instalments a month, rupees
    new_instalment_monthly: Decimal  # this loan's instalment per month (weekly x 52 / 12)
    employment_type: EmploymentType
    device_price: Decimal
    down_payment: Decimal
    tenor: int  # number of instalments
    tenor_months: Decimal  # the loan's length in months, whatever its frequency
    imei_secures_active_loan: bool
    active_financed_phones: int  # this CNIC's active loans with us
    device_known: bool  # the IMEI's TAC is in the device registry
    bureau: BureauReport
    past_loans_with_us: int = 0  # closed or settled loans of this CNIC
    worst_dpd_with_us: int = 0  # worst days past due on those loans

    def __post_init__(self) -> None:
        for name in _MONEY + ("tenor_months",):
            object.__setattr__(self, name, to_decimal(getattr(self, name), name))
        object.__setattr__(self, "employment_type", EmploymentType(self.employment_type))


_MONEY = (
    "monthly_income",
    "monthly_obligations",
    "new_instalment_monthly",
    "device_price",
    "down_payment",
)


def to_decimal(value: object, name: str) -> Decimal:
    """Return value as a finite Decimal; refuse floats, which cannot hold rupees exactly."""
    if isinstance(value, float | bool):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number")
    return number
