"""The calendar of a schedule: due dates and the accrual period of each instalment."""

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from lending.finance.dates import add_periods, nominal_due_dates, roll_forward
from lending.finance.enums import DayCount, Frequency
from lending.finance.kernel import Period, days_period, regular_period


@dataclass(frozen=True)
class DateKey:
    """What the calendar of a schedule depends on (the tenor only cuts it short)."""

    start: date
    first_due: date | None
    frequency: Frequency
    day_count: DayCount
    roll_holidays: bool


@dataclass(frozen=True)
class Plan:
    """Accrual dates, payment dates and periods of the first `len(due)` instalments."""

    nominal: tuple[date, ...]  # profit accrues to these (unrolled) dates
    due: tuple[date, ...]  # the borrower pays on these (rolled when the product asks)
    periods: tuple[Period, ...]
    regular: bool  # every period is a regular 30/360 one: the annuity is numpy-financial pmt


def is_regular_first(key: DateKey) -> bool:
    """Tell whether the first period is one regular period long."""
    return key.first_due is None or key.first_due == add_periods(key.start, key.frequency, 1)


@lru_cache(maxsize=8192)
def make_plan(key: DateKey, tenor: int) -> Plan:
    """Return the calendar of the first `tenor` instalments for key."""
    nominal = nominal_due_dates(key.start, key.first_due, key.frequency, tenor)
    # The holiday roll moves the payment date only; accrual stays on the nominal dates
    # (the "unadjusted" convention), so a roll never changes an amount.
    due = tuple(roll_forward(d) for d in nominal) if key.roll_holidays else nominal
    regular_first = is_regular_first(key)
    actual = key.day_count is DayCount.ACTUAL_365
    periods: list[Period] = []
    previous = key.start
    for k, day in enumerate(nominal):
        if actual or (k == 0 and not regular_first):
            periods.append(days_period((day - previous).days))
        else:
            periods.append(regular_period(key.frequency.per_year))
        previous = day
    return Plan(nominal, due, tuple(periods), regular_first and not actual)
