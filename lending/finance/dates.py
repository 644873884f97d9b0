"""Due dates: monthly steps clamped to month end, and the Pakistani holiday roll."""

import calendar
from datetime import date, timedelta
from functools import lru_cache

import holidays

from lending.finance.enums import Frequency

# Pakistan's weekly holiday is Sunday (banks and most shops close); a due date that falls on
# it, or on a gazetted public holiday, rolls forward when the product asks for it.
WEEKLY_HOLIDAYS = frozenset({calendar.SUNDAY})


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    """Return the date `months` later on anchor_day (default day.day), clamped to month end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor_day or day.day, last))


def add_periods(start: date, frequency: Frequency, count: int) -> date:
    """Return the date `count` regular periods after start."""
    if frequency is Frequency.MONTHLY:
        return add_months(start, count)
    return start + timedelta(days=frequency.step_days * count)


def nominal_due_dates(
    start: date, first_due: date | None, frequency: Frequency, count: int
) -> tuple[date, ...]:
    """Return the unrolled due dates: monthly ones keep the first due date's day of month."""
    first = first_due or add_periods(start, frequency, 1)
    if frequency is Frequency.MONTHLY:
        # Without an explicit first due date the anchor is the disbursement day, so a loan
        # disbursed on 31 January falls due on 28/29 February and then on 31 March.
        anchor = (first_due or start).day
        return tuple(add_months(first, k, anchor) for k in range(count))
    step = timedelta(days=frequency.step_days)
    return tuple(first + step * k for k in range(count))


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("PK", years=year))


def is_business_day(day: date) -> bool:
    """Tell whether day is neither a Sunday nor a Pakistani public holiday."""
    return day.weekday() not in WEEKLY_HOLIDAYS and day not in _public_holidays(day.year)


def roll_forward(day: date) -> date:
    """Return day, or the next business day when day is a Sunday or a public holiday."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day
