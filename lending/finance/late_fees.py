"""Late fees: one charge per overdue instalment after the grace days, charity if Islamic."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from lending.finance.errors import TermsError
from lending.finance.kernel import div_half_up
from lending.finance.money import ZERO, decimal_places_ok, to_money, to_paisa


@dataclass(frozen=True)
class LateFeeRule:
    """A product's late fee: fixed + percent of the overdue amount, capped, after grace days."""

    fixed: Decimal = ZERO  # rupees
    percent: Decimal = ZERO  # of the overdue instalment amount, e.g. Decimal("2")
    cap: Decimal | None = None  # rupees; None: no cap
    grace_days: int = 0

    def __post_init__(self) -> None:
        errors: dict[str, list[str]] = {}
        if not isinstance(self.fixed, Decimal) or self.fixed < 0:
            errors["fixed"] = ["must be a Decimal of 0 or more"]
        if (
            not isinstance(self.percent, Decimal)
            or not 0 <= self.percent <= 100
            or not decimal_places_ok(self.percent, 2)
        ):
            errors["percent"] = ["must be a Decimal from 0 to 100, at most 2 places"]
        if self.cap is not None and (not isinstance(self.cap, Decimal) or self.cap < 0):
            errors["cap"] = ["must be a Decimal of 0 or more"]
        if (
            isinstance(self.grace_days, bool)
            or not isinstance(self.grace_days, int)
            or self.grace_days < 0
        ):
            errors["grace_days"] = ["must be a whole number of 0 or more"]
        if errors:
            raise TermsError(errors)


@dataclass(frozen=True)
class LateFee:
    """The fee for one overdue instalment; `charity` fees are not income (Islamic products)."""

    amount: Decimal
    charity: bool


def chargeable_from(rule: LateFeeRule, due_date: date) -> date:
    """Return the first date on which an unpaid instalment due on due_date is charged."""
    return due_date + timedelta(days=rule.grace_days + 1)


def late_fee(
    rule: LateFeeRule, overdue: Decimal, due_date: date, on: date, islamic: bool = False
) -> LateFee:
    """Return the late fee on an instalment with `overdue` unpaid on `on` (zero in grace)."""
    if to_paisa(overdue) <= 0 or on < chargeable_from(rule, due_date):
        return LateFee(ZERO, islamic)
    # percent is at most two places of a percent: an exact fraction of 10,000.
    percent_part = div_half_up(to_paisa(overdue) * int(rule.percent * 100), 10_000)
    amount = to_paisa(rule.fixed) + percent_part
    if rule.cap is not None:
        amount = min(amount, to_paisa(rule.cap))
    # Islamic finance may not profit from lateness: the charge is given to charity.
    return LateFee(to_money(amount), islamic)
