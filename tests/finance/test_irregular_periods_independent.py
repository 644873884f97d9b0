"""Irregular periods (actual/365, odd first due dates) against a second derivation.

The engines price these with numpy-financial floats and integer paisa (`kernel.level_payment`,
`plan.make_plan`); the batch engine shares that code, so batch-equals-one-loan tests cannot
catch a mistake in it. Here every expected amount comes from `reference_rows` below: exact
`fractions.Fraction` arithmetic written from the product rules alone (no import from
lending.finance), and the headline numbers are also worked by hand in the comments.

The rules, as the product states them: the level instalment is the one whose instalments,
each discounted at its own period's rate (period rate = annual rate x days / 365, or annual
rate / 12 for a regular 30/360 month), add up to the amount financed; it is rounded half up to
the paisa, then up to the next rupee. Each period's profit is balance x period rate, half up;
the principal part is the instalment less the profit; the last instalment takes the balance.
"""

import math
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from lending.finance.batch import BatchTerms, build_batch
from lending.finance.enums import DayCount, Frequency
from lending.finance.schedule import build_schedule
from lending.finance.terms import LoanTerms

D = Decimal


def half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def period_rates(rate_pct: int, days: list[int | None]) -> list[Fraction]:
    """A period of n actual days earns rate x n / 365; None is a regular 30/360 month."""
    rate = Fraction(rate_pct, 100)
    return [rate / 12 if d is None else rate * d / 365 for d in days]


def reference_level(financed: int, rates: list[Fraction]) -> int:
    """The level instalment in paisa: financed / sum of discount factors, up to the rupee."""
    discount, annuity = Fraction(1), Fraction(0)
    for r in rates:
        discount /= 1 + r
        annuity += discount
    paisa = half_up(financed / annuity)
    return -(-paisa // 100) * 100


def reference_rows(financed: int, rate_pct: int, days: list[int | None]) -> list[tuple]:
    """(principal, profit) per instalment, in paisa, by the rules in the module doc."""
    rates = period_rates(rate_pct, days)
    level = reference_level(financed, rates)
    balance, rows = financed, []
    for k, r in enumerate(rates):
        profit = half_up(balance * r)
        part = balance if k == len(rates) - 1 else min(max(level - profit, 0), balance)
        rows.append((part, profit))
        balance -= part
    return rows


def paisa(amount: Decimal) -> int:
    return int(amount * 100)


def engine_rows(terms: LoanTerms) -> list[tuple]:
    return [(paisa(r.principal), paisa(r.profit)) for r in build_schedule(terms).instalments]


def batch_rows(terms: LoanTerms) -> list[tuple]:
    batch = build_batch(BatchTerms.from_terms([terms]))
    return [(row[2], row[3]) for row in batch.rows(0)]


WEEKLY = dict(
    principal=D("38499"),
    annual_rate=D("40"),
    tenor=26,
    start=date(2026, 1, 5),
    frequency=Frequency.WEEKLY,
    day_count=DayCount.ACTUAL_365,
)


def test_weekly_actual_365_loan_by_hand():
    """QIST-WEEKLY: Rs 38,499 at 40% over 26 weeks, actual/365.

    A week's rate is 0.40 x 7 / 365 = 0.0076712; the annuity factor of 26 such weeks is
    (1 - 1.0076712^-26) / 0.0076712 = 23.4899, so the instalment is 38,499 / 23.4899 =
    1,638.96, up to the rupee 1,639.00 (dropping the discount gives 38,499 / 26 = 1,481).
    Week 1: profit 38,499 x 0.40 x 7 / 365 = 295.3348 -> 295.33, principal 1,343.67.
    Week 2: balance 37,155.33 x 0.40 x 7 / 365 = 285.0271 -> 285.03, principal 1,353.97.
    """
    schedule = build_schedule(LoanTerms(**WEEKLY))
    rows = schedule.instalments
    assert schedule.instalment_amount == D("1639.00")
    assert (rows[0].profit, rows[0].principal, rows[0].balance_after) == (
        D("295.33"),
        D("1343.67"),
        D("37155.33"),
    )
    assert (rows[1].profit, rows[1].principal) == (D("285.03"), D("1353.97"))
    assert {r.total for r in rows[:-1]} == {D("1639.00")}
    # The last week takes the balance: 1,625.32 of principal and 12.47 of profit.
    assert (rows[-1].principal, rows[-1].profit, rows[-1].total) == (
        D("1625.32"),
        D("12.47"),
        D("1637.79"),
    )
    assert schedule.total_profit == D("4113.79")
    assert [r.due_date for r in rows[:3]] == [
        date(2026, 1, 12),
        date(2026, 1, 19),
        date(2026, 1, 26),
    ]


CASES = {
    # (terms, the days of each period: None for a regular 30/360 month)
    "weekly, regular weeks": (WEEKLY, [7] * 26),
    "weekly, a 10-day first week": (
        {**WEEKLY, "tenor": 13, "first_due": date(2026, 1, 15)},
        [10] + [7] * 12,
    ),
    "monthly 30/360, a 45-day first month": (
        dict(
            principal=D("100000"),
            annual_rate=D("30"),
            tenor=12,
            start=date(2024, 1, 15),
            first_due=date(2024, 2, 29),
        ),
        [45] + [None] * 11,
    ),
    "monthly actual/365 from 31 January (month-end dates)": (
        dict(
            principal=D("50000"),
            annual_rate=D("36"),
            tenor=6,
            start=date(2025, 1, 31),
            day_count=DayCount.ACTUAL_365,
        ),
        [28, 31, 30, 31, 30, 31],  # 28 Feb, 31 Mar, 30 Apr, 31 May, 30 Jun, 31 Jul 2025
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_irregular_schedules_equal_the_exact_fraction_derivation(case):
    values, days = CASES[case]
    terms = LoanTerms(**values)
    expected = reference_rows(paisa(terms.principal), int(terms.annual_rate), days)
    assert engine_rows(terms) == expected
    assert batch_rows(terms) == expected
    # Calendar: each period is the days between consecutive due dates, from disbursement.
    dates = [terms.start] + [r.due_date for r in build_schedule(terms).instalments]
    actual = [(b - a).days for a, b in zip(dates, dates[1:], strict=False)]
    assert [d for d, want in zip(actual, days, strict=True) if want is not None] == [
        d for d in days if d is not None
    ]


# Totals written out (from the derivation above, and checked against it here), so that a
# change of the reference itself cannot pass silently.
TOTALS = {
    "weekly, regular weeks": ("1639.00", "4113.79"),
    "weekly, a 10-day first week": ("3134.00", "2230.85"),
    "monthly 30/360, a 45-day first month": ("9863.00", "18352.05"),
    "monthly actual/365 from 31 January (month-end dates)": ("9213.00", "5274.51"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_irregular_schedule_totals(case):
    values, days = CASES[case]
    instalment, profit = TOTALS[case]
    rows = reference_rows(paisa(values["principal"]), int(values["annual_rate"]), days)
    assert Decimal(sum(p for _, p in rows)) / 100 == D(profit)
    schedule = build_schedule(LoanTerms(**values))
    assert (schedule.instalment_amount, schedule.total_profit) == (D(instalment), D(profit))
    assert sum(r.principal for r in schedule.instalments) == values["principal"]


def test_ten_day_first_week_by_hand():
    """Rs 38,499 at 40%, first due 10 days after disbursement, then weekly (13 instalments).

    Period 1: 38,499 x 0.40 x 10 / 365 = 421.9068 -> 421.91 (not a 7-day 295.33).
    Level 3,134.00 (exact 3,133.107, up to the rupee); principal 1 = 3,134 - 421.91 = 2,712.09.
    Period 2: 35,786.91 x 0.40 x 7 / 365 = 274.5297 -> 274.53, principal 2,859.47.
    """
    rows = build_schedule(
        LoanTerms(**{**WEEKLY, "tenor": 13, "first_due": date(2026, 1, 15)})
    ).instalments
    assert (rows[0].profit, rows[0].principal) == (D("421.91"), D("2712.09"))
    assert (rows[1].profit, rows[1].principal) == (D("274.53"), D("2859.47"))
    assert rows[1].due_date - rows[0].due_date == timedelta(days=7)


def test_a_batch_of_different_tenors_on_one_calendar_prices_each_by_its_own_tenor():
    # 13 and 26 weekly instalments from the same day share a calendar (one batch group):
    # the 13-week loan's annuity must stop at its 13th week.
    loans = [LoanTerms(**{**WEEKLY, "tenor": n}) for n in (26, 13, 52)]
    batch = build_batch(BatchTerms.from_terms(loans))
    for i, terms in enumerate(loans):
        expected = reference_rows(paisa(terms.principal), 40, [7] * terms.tenor)
        assert [(row[2], row[3]) for row in batch.rows(i)] == expected
    assert [batch.level(i) for i in range(3)] == [
        163_900,
        reference_level(3_849_900, period_rates(40, [7] * 13)),
        reference_level(3_849_900, period_rates(40, [7] * 52)),
    ]
