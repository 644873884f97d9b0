"""APR by the actuarial method of US Regulation Z, Appendix J (12 CFR 1026).

Each advance and payment sits t whole unit-periods plus a fraction f of one after the
start of the term (the earliest advance); the unit-period rate i solves the general
equation (b)(8): sum A / ((1 + f i)(1 + i)^t) over advances = the same sum over payments.
APR = i x unit-periods per year, in percent, rounded half up to two places. The root is
found in float (a rate, not money), then the two-place answer is confirmed exactly: the
equation is evaluated in 40-digit Decimal at both rounding boundaries.
"""

import calendar
import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

import numpy as np
from scipy.optimize import brentq

from lending.finance.errors import TermsError

CENT = Decimal("0.01")


class UnitPeriod(StrEnum):
    """Appendix J unit-periods; `single` is the single-advance, single-payment case."""

    MONTH = "month"
    SEMIMONTH = "semimonth"
    QUARTER = "quarter"
    TWO_MONTHS = "2months"
    WEEK = "week"
    TWO_WEEKS = "2weeks"
    FOUR_WEEKS = "4weeks"
    SINGLE = "single"


_PER_YEAR = {
    UnitPeriod.MONTH: 12,
    UnitPeriod.SEMIMONTH: 24,
    UnitPeriod.QUARTER: 4,
    UnitPeriod.TWO_MONTHS: 6,
    UnitPeriod.WEEK: 52,
    UnitPeriod.TWO_WEEKS: 26,
    UnitPeriod.FOUR_WEEKS: 13,
}
# (b)(5)(iii): semimonths and multiples of a month count 30-day months; (iv) weeks count days.
_MONTH_BASED_DAYS = {UnitPeriod.SEMIMONTH: 15, UnitPeriod.QUARTER: 90, UnitPeriod.TWO_MONTHS: 60}
_WEEK_BASED_DAYS = {UnitPeriod.WEEK: 7, UnitPeriod.TWO_WEEKS: 14, UnitPeriod.FOUR_WEEKS: 28}


@dataclass(frozen=True)
class CashFlow:
    """An advance or a payment of `amount` rupees on a date."""

    amount: Decimal
    on: date


@dataclass(frozen=True)
class Position:
    """A cash flow placed on the Appendix J time line: amount, whole periods t, fraction f."""

    amount: Decimal
    t: int
    f: Fraction = Fraction(0)


def apr(
    advances: Sequence[CashFlow], payments: Sequence[CashFlow], unit_period: UnitPeriod
) -> Decimal:
    """Return the APR (percent, two places) of the advances repaid by the payments."""
    unit = _check(advances, payments, unit_period)
    start = min(flow.on for flow in advances)
    if unit is UnitPeriod.SINGLE:
        (advance,), (payment,) = advances, payments  # _check: exactly one of each
        t, f, per_year = _single_position(start, payment.on)
        return apr_of_positions(
            [Position(advance.amount, 0)], [Position(payment.amount, t, f)], per_year
        )
    series_day = max(flow.on.day for flow in payments)

    def place(flow: CashFlow) -> Position:
        return Position(flow.amount, *_position(start, flow.on, unit, series_day))

    return apr_of_positions(
        [place(a) for a in advances], [place(p) for p in payments], _PER_YEAR[unit]
    )


def apr_of_positions(
    advances: Sequence[Position], payments: Sequence[Position], per_year: int
) -> Decimal:
    """Return the APR of cash flows already placed in unit-periods (general equation)."""
    flows = [(p.amount, p.t, p.f) for p in advances]
    flows += [(-p.amount, p.t, p.f) for p in payments]
    # The float root gives a cent to start from (any cent near it: how it is rounded does not
    # matter); the exact-Decimal check then walks it, a cent at a time, to the cent whose
    # half-cent interval holds the root. The equation rises with the rate, so the walk ends
    # (after a step or none: the float root is never more than a cent or so away).
    candidate = Decimal(repr(_solve(flows) * float(per_year) * 100)).quantize(CENT)
    while step := _boundary_step(flows, candidate, per_year):
        candidate += step * CENT
    return candidate


def months_back(start: date, later: date, series_day: int) -> tuple[int, int]:
    """Return (full months, remaining days) from start to later, months counted back."""
    months = (later.year - start.year) * 12 + later.month - start.month
    # (b)(3)(iv): a series on the 29th-31st uses the month's last day when it has no such
    # day, so a clamped date (28 Feb) counts back as the series day (30 Jan, 31 Jan).
    last = calendar.monthrange(later.year, later.month)[1]
    day = series_day if later.day == last and series_day > later.day else later.day
    while months > 0:
        back = _month_shift(later, -months, day)
        if back >= start:
            return months, (back - start).days
        months -= 1
    return 0, (later - start).days


def _month_shift(day: date, months: int, anchor_day: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(anchor_day, calendar.monthrange(year, month + 1)[1]))


def _position(start: date, on: date, unit: UnitPeriod, series_day: int) -> tuple[int, Fraction]:
    if unit in _WEEK_BASED_DAYS:
        days, length = (on - start).days, _WEEK_BASED_DAYS[unit]
        return days // length, Fraction(days % length, length)
    months, rest = months_back(start, on, series_day)
    if unit is UnitPeriod.MONTH:
        return months, Fraction(rest, 30)
    days, length = 30 * months + rest, _MONTH_BASED_DAYS[unit]
    return days // length, Fraction(days % length, length)


def _single_position(start: date, on: date) -> tuple[int, Fraction, int]:
    """Return (t, f, unit-periods per year) of a single payment, (b)(5)(v)-(vii), with the
    year as the unit-period.

    (b)(5)(v) makes a term of at most a year its own unit-period: one period, rate i, APR =
    i x (periods in a year). That is the same equation as a fraction of one year: A(1 + i) = P
    with APR = i x 12/months (or 365/days) is A(1 + (months/12 or days/365) x APR) = P. So
    one rule places every single payment (tests/finance/test_apr_advances.py holds the two
    equal on random terms of up to a year)."""
    months, rest = months_back(start, on, on.day)
    years = months // 12
    if rest == 0:
        return years, Fraction(months % 12, 12), 1
    anniversary = _month_shift(on, -12 * years, on.day)
    return years, Fraction((anniversary - start).days, 365), 1


def _check(advances, payments, unit_period) -> UnitPeriod:
    errors: dict[str, list[str]] = {}
    try:
        unit = UnitPeriod(unit_period)
    except ValueError:
        unit = None
        allowed = ", ".join(u.value for u in UnitPeriod)
        errors["unit_period"] = [f"must be one of {allowed}"]
    for name, flows in (("advances", advances), ("payments", payments)):
        # A zero payment (a schedule's empty last row) weighs nothing; a negative one is a bug.
        if not any(isinstance(f.amount, Decimal) and f.amount > 0 for f in flows):
            errors.setdefault(name, []).append("must have an amount above 0")
        elif any(not isinstance(f.amount, Decimal) or f.amount < 0 for f in flows):
            errors.setdefault(name, []).append("every amount must be a Decimal of 0 or more")
    if advances and payments:
        first_advance = min(a.on for a in advances)
        if min(p.on for p in payments) < first_advance:
            errors.setdefault("payments", []).append("must not come before the first advance")
        elif max(p.on for p in payments) == first_advance:
            errors.setdefault("payments", []).append("must end after the first advance")
    if unit is UnitPeriod.SINGLE and (len(advances) != 1 or len(payments) != 1):
        errors.setdefault("unit_period", []).append("single needs one advance and one payment")
    if not errors and sum(p.amount for p in payments) < sum(a.amount for a in advances) / 2:
        errors["payments"] = ["must repay at least half of the advances"]
    if errors:
        raise TermsError(errors)
    return unit


def _solve(flows: list[tuple[Decimal, int, Fraction]]) -> float:
    """Return the unit-period rate that zeroes the general equation, in floats: only where the
    exact-Decimal check (`_boundary_step`) starts from.

    Brent's method (scipy's `brentq`) in a bracket where the equation changes sign: it rises
    with the rate, is negative at -99% a period (the payments weigh most) and positive once
    the rate is high enough that the later payments weigh almost nothing.
    """
    amount = np.array([float(a) for a, _, _ in flows])
    t = np.array([float(t) for _, t, _ in flows])
    f = np.array([float(f) for _, _, f in flows])

    def value(i: float) -> float:
        return float((amount / ((1.0 + f * i) * (1.0 + i) ** t)).sum())

    low, high = -0.99, 1.0
    while value(high) < 0 and high < 1e6:
        high *= 2
    try:
        return float(brentq(value, low, high, xtol=1e-15, maxiter=200))
    except ValueError as exc:  # no sign change: repaid on the first day more than advanced
        raise TermsError({"payments": ["no rate repays the advances with them"]}) from exc


def _boundary_step(flows, candidate: Decimal, per_year: int) -> int:
    """Return 0 if candidate is the rounded APR, else -1 or +1 towards it."""
    with decimal.localcontext(prec=40):
        scale = per_year * 100  # unit-periods a year: a whole number for every unit period
        low = _exact_value(flows, (candidate - CENT / 2) / scale)
        high = _exact_value(flows, (candidate + CENT / 2) / scale)
    # The equation rises with the rate: low > 0 puts the root below candidate - 0.005 (a cent
    # down), high <= 0 above candidate + 0.005 (a cent up); never both, as low < high.
    return int(high <= 0) - int(low > 0)


def _exact_value(flows, rate: Decimal) -> Decimal:
    total = Decimal(0)
    one = Decimal(1)
    for amount, t, f in flows:
        frac = one + Decimal(f.numerator) / Decimal(f.denominator) * rate
        total += amount / (frac * (one + rate) ** t)
    return total
