"""Loan terms: the validated, immutable input of every schedule."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from lending.finance.dates import add_periods
from lending.finance.enums import DayCount, Frequency, Method
from lending.finance.errors import TermsError
from lending.finance.kernel import RATE_PLACES, rate_units
from lending.finance.money import decimal_places_ok, to_paisa

__all__ = [
    "DayCount",
    "Frequency",
    "LoanTerms",
    "Method",
    "TermsError",
    "MAX_PRINCIPAL",
    "MAX_RATE",
    "MAX_TENOR",
    "ROUND_PAISA",
    "ROUND_RUPEE",
]

MAX_TENOR = 120
MAX_RATE = Decimal("100")
# Phones cost far less; the bound keeps every integer product of the engines inside int64.
MAX_PRINCIPAL = Decimal("10000000")
ROUND_RUPEE = Decimal("1")
ROUND_PAISA = Decimal("0.01")
_UNIT_PAISA = {ROUND_RUPEE: 100, ROUND_PAISA: 1}
# A first period longer than two regular ones is a deferral product, not a first due date.
MAX_FIRST_PERIODS = 2


@dataclass(frozen=True, kw_only=True)
class LoanTerms:
    """What is financed, at which rate, repaid how; invalid terms raise TermsError."""

    principal: Decimal  # amount financed before any financed fee, rupees
    annual_rate: Decimal  # percent a year, up to 4 places: Decimal("9.4822"); Murabaha's markup
    tenor: int  # number of instalments
    start: date  # disbursement date: profit runs from here
    method: Method = Method.REDUCING
    frequency: Frequency = Frequency.MONTHLY
    day_count: DayCount = DayCount.D30_360
    first_due: date | None = None  # default: one regular period after start
    fee: Decimal = Decimal("0")  # processing fee in rupees (fixed and percent already summed)
    fee_financed: bool = True  # True: added to the financed amount; False: paid up front
    rounding: Decimal = ROUND_RUPEE  # 1: instalment up to the next rupee; 0.01: to the paisa
    roll_holidays: bool = False  # roll due dates off Sundays and Pakistani public holidays
    islamic: bool = False  # Murabaha: sale price and profit fixed at booking

    def __post_init__(self) -> None:
        errors: dict[str, list[str]] = {}
        for name, kind in (("method", Method), ("frequency", Frequency), ("day_count", DayCount)):
            _coerce_enum(self, name, kind, errors)
        for name in ("principal", "annual_rate", "fee", "rounding"):
            _coerce_decimal(self, name, errors)
        _check_amounts(self, errors)
        _check_schedule(self, errors)
        if errors:
            raise TermsError(errors)

    @property
    def rate_units(self) -> int:
        """Return the annual rate in the engines' integer rate units (9.4822% -> 94822)."""
        return rate_units(self.annual_rate)

    @property
    def unit_paisa(self) -> int:
        """Return the instalment rounding unit in paisa (100 or 1)."""
        return _UNIT_PAISA[self.rounding]

    @property
    def fee_paisa(self) -> int:
        """Return the processing fee in paisa."""
        return to_paisa(self.fee)

    @property
    def financed_paisa(self) -> int:
        """Return the amount the schedule repays, in paisa (principal plus a financed fee)."""
        return to_paisa(self.principal) + (self.fee_paisa if self.fee_financed else 0)

    @property
    def advanced_paisa(self) -> int:
        """Return the amount actually advanced (an up-front fee reduces it), in paisa."""
        return to_paisa(self.principal) - (0 if self.fee_financed else self.fee_paisa)


def _coerce_enum(terms: LoanTerms, name: str, kind: type[StrEnum], errors: dict) -> None:
    value = getattr(terms, name)
    try:
        object.__setattr__(terms, name, kind(value))
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        errors.setdefault(name, []).append(f"must be one of {allowed}")


def _coerce_decimal(terms: LoanTerms, name: str, errors: dict) -> None:
    value = getattr(terms, name)
    if isinstance(value, float | bool) or not isinstance(value, Decimal | int | str):
        errors.setdefault(name, []).append("must be a Decimal (never a float)")
        return
    try:
        number = Decimal(value)
    except InvalidOperation:
        errors.setdefault(name, []).append("must be a number")
        return
    if not number.is_finite():
        errors.setdefault(name, []).append("must be a finite number")
        return
    object.__setattr__(terms, name, number)


def _check_amounts(terms: LoanTerms, errors: dict) -> None:
    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if "principal" not in errors:
        if not 0 < terms.principal <= MAX_PRINCIPAL:
            add("principal", f"must be more than 0 and at most {MAX_PRINCIPAL}")
        elif not decimal_places_ok(terms.principal, 2):
            add("principal", "must have at most 2 decimal places")
    if "annual_rate" not in errors:
        if not 0 <= terms.annual_rate <= MAX_RATE:
            add("annual_rate", f"must be between 0 and {MAX_RATE} percent")
        elif not decimal_places_ok(terms.annual_rate, RATE_PLACES):
            add("annual_rate", f"must have at most {RATE_PLACES} decimal places")
    if "fee" not in errors:
        if terms.fee < 0 or not decimal_places_ok(terms.fee, 2):
            add("fee", "must be 0 or more, with at most 2 decimal places")
        elif "principal" not in errors and terms.fee >= terms.principal:
            add("fee", "must be less than the principal")
    if "rounding" not in errors and terms.rounding not in _UNIT_PAISA:
        add("rounding", "must be 1 or 0.01")
    for flag in ("fee_financed", "roll_holidays", "islamic"):
        if not isinstance(getattr(terms, flag), bool):
            add(flag, "must be true or false")


def _check_schedule(terms: LoanTerms, errors: dict) -> None:
    tenor = terms.tenor
    if isinstance(tenor, bool) or not isinstance(tenor, int) or not 1 <= tenor <= MAX_TENOR:
        errors.setdefault("tenor", []).append(f"must be a whole number from 1 to {MAX_TENOR}")
    if not isinstance(terms.start, date):
        errors.setdefault("start", []).append("must be a date")
        return
    first_due = terms.first_due
    if first_due is None or "frequency" in errors:
        return
    if not isinstance(first_due, date):
        errors.setdefault("first_due", []).append("must be a date")
    elif first_due <= terms.start:
        errors.setdefault("first_due", []).append("must be after the disbursement date")
    elif first_due > add_periods(terms.start, terms.frequency, MAX_FIRST_PERIODS):
        errors.setdefault("first_due", []).append(
            f"must be within {MAX_FIRST_PERIODS} {terms.frequency} periods of the start"
        )
