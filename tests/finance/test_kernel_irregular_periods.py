"""finance/kernel.py and plan.py: amounts a borrower would notice, derived independently.

The reference below is a second derivation in exact fractions (no numpy, no float, no code
under test): the level instalment of an annuity whose periods have their own lengths is
principal / sum_k prod_{j<=k} 1 / (1 + rate x days_j / 365), rounded up to the rupee; each
row's profit is balance x rate x days / 365 half up to the paisa, the last row takes the rest.
"""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from lending.finance import DayCount, Frequency, LoanTerms, TermsError, build_schedule
from lending.finance.kernel import (
    days_period,
    div_half_up,
    flat_markup,
    flat_weight,
    instalment_from_float,
    level_payment,
    period_profit,
    rate_units,
    regular_period,
    unit_share,
)
from lending.finance.plan import DateKey, make_plan


def half_up(value: Fraction) -> int:
    """Round a non-negative fraction half up to an integer."""
    return int(value + Fraction(1, 2))


def reference_rows(principal_paisa: int, rate: Fraction, days: list[int], rupee: bool = True):
    """Return (level, [(principal, profit)]) in paisa, from first principles."""
    discount, total = Fraction(1), Fraction(0)
    for d in days:
        discount /= 1 + rate * d / 365
        total += discount
    exact = principal_paisa / total
    level = half_up(exact)
    if rupee:
        level = -(-level // 100) * 100
    balance, rows = principal_paisa, []
    for k, d in enumerate(days):
        profit = half_up(balance * rate * d / 365)
        part = balance if k == len(days) - 1 else min(max(level - profit, 0), balance)
        rows.append((part, profit))
        balance -= part
    return level, rows


def weekly_terms(first_due):
    return LoanTerms(
        principal=Decimal("38499"),
        annual_rate=Decimal("40"),
        tenor=26,
        start=date(2024, 1, 1),
        frequency=Frequency.WEEKLY,
        day_count=DayCount.ACTUAL_365,
        first_due=first_due,
    )


def test_weekly_actual_365_rs_38499_over_26_weeks_at_40_percent_is_1639_a_week():
    # By hand: i = 0.40 x 7 / 365 = 0.00767123; (1 + i)^26 = 1.21981; the annuity factor
    # (1 - 1.21981^-1) / i = 23.4907; 38,499 / 23.4907 = 1,638.90, up to the rupee 1,639.
    # Week 1 profit: 38,499 x 0.40 x 7 / 365 = 295.3345... -> 295.33; principal 1,343.67.
    schedule = build_schedule(weekly_terms(None))
    assert schedule.instalment_amount == Decimal("1639.00")
    first = schedule.instalments[0]
    assert (first.due_date, first.profit, first.principal) == (
        date(2024, 1, 8),
        Decimal("295.33"),
        Decimal("1343.67"),
    )
    assert first.balance_after == Decimal("37155.33")
    level, rows = reference_rows(3_849_900, Fraction(40, 100), [7] * 26)
    assert level == 163_900
    got = [(int(r.principal * 100), int(r.profit * 100)) for r in schedule.instalments]
    assert got == rows
    assert schedule.total_profit == Decimal(sum(p for _, p in rows)) / 100


def test_odd_first_due_date_weekly_actual_365():
    # First due 10 January: a 9-day first period, then weeks. The longer first period earns
    # 38,499 x 0.40 x 9 / 365 = 379.7161 -> 379.72, and lifts the level to 1,643.
    schedule = build_schedule(weekly_terms(date(2024, 1, 10)))
    level, rows = reference_rows(3_849_900, Fraction(40, 100), [9] + [7] * 25)
    assert level == 164_300
    assert schedule.instalment_amount == Decimal("1643.00")
    assert schedule.instalments[0].profit == Decimal("379.72")
    assert [r.due_date for r in schedule.instalments[:3]] == [
        date(2024, 1, 10),
        date(2024, 1, 17),
        date(2024, 1, 24),
    ]
    got = [(int(r.principal * 100), int(r.profit * 100)) for r in schedule.instalments]
    assert got == rows
    assert sum(p for p, _ in rows) == 3_849_900


def test_short_odd_first_period_lowers_the_instalment():
    # First due 5 January: 4 days, 38,499 x 0.40 x 4 / 365 = 168.7627 -> 168.76; level 1,634.
    schedule = build_schedule(weekly_terms(date(2024, 1, 5)))
    level, rows = reference_rows(3_849_900, Fraction(40, 100), [4] + [7] * 25)
    assert level == 163_400 == int(schedule.instalment_amount * 100)
    assert schedule.instalments[0].profit == Decimal("168.76")
    assert [(int(r.principal * 100), int(r.profit * 100)) for r in schedule.instalments] == rows


def test_monthly_actual_365_periods_are_measured_from_disbursement():
    # Disbursed 31 January 2024 (leap year): due 29 Feb, 31 Mar, 30 Apr; the periods are the
    # actual 29, 31 and 30 days counted from the disbursement and then from each due date.
    key = DateKey(date(2024, 1, 31), None, Frequency.MONTHLY, DayCount.ACTUAL_365, False)
    plan = make_plan(key, 3)
    assert plan.due == (date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30))
    assert plan.periods == (days_period(29), days_period(31), days_period(30))
    assert plan.regular is False
    terms = LoanTerms(
        principal=Decimal("30000"),
        annual_rate=Decimal("36.5"),
        tenor=3,
        start=date(2024, 1, 31),
        day_count=DayCount.ACTUAL_365,
        rounding=Decimal("0.01"),
    )
    # 36.5% a year is 0.1% a day: 30,000 x 0.001 x 29 = 870.00 exactly in the first month.
    rows = build_schedule(terms).instalments
    assert rows[0].profit == Decimal("870.00")
    level, ref = reference_rows(3_000_000, Fraction(365, 1000), [29, 31, 30], rupee=False)
    assert [(int(r.principal * 100), int(r.profit * 100)) for r in rows] == ref


def test_30_360_odd_first_period_counts_its_actual_days_then_regular_months():
    key = DateKey(date(2024, 1, 1), date(2024, 2, 15), Frequency.MONTHLY, DayCount.D30_360, False)
    plan = make_plan(key, 3)
    assert plan.periods == (days_period(45), regular_period(12), regular_period(12))
    assert plan.due == (date(2024, 2, 15), date(2024, 3, 15), date(2024, 4, 15))
    assert plan.regular is False
    regular = DateKey(
        date(2024, 1, 1), date(2024, 2, 1), Frequency.MONTHLY, DayCount.D30_360, False
    )
    assert make_plan(regular, 2).regular is True
    assert make_plan(regular, 2).periods == (regular_period(12), regular_period(12))


def test_a_holiday_roll_moves_the_payment_date_but_not_the_amount():
    # 3 March 2024 is a Sunday: the payment rolls to Monday 4 March, profit still accrues to
    # the 3rd, so the rolled schedule's amounts equal the unrolled one's.
    rolled = DateKey(date(2024, 2, 3), None, Frequency.MONTHLY, DayCount.ACTUAL_365, True)
    plain = DateKey(date(2024, 2, 3), None, Frequency.MONTHLY, DayCount.ACTUAL_365, False)
    assert make_plan(rolled, 1).due == (date(2024, 3, 4),)
    assert make_plan(rolled, 1).nominal == (date(2024, 3, 3),)
    assert make_plan(rolled, 1).periods == make_plan(plain, 1).periods == (days_period(29),)


@pytest.mark.parametrize(
    ("rate", "units"),
    [("9.4822", 94_822), ("100", 1_000_000), ("0", 0), ("0.0001", 1), (40, 400_000)],
)
def test_rate_units_are_exact(rate, units):
    assert rate_units(Decimal(rate) if isinstance(rate, str) else rate) == units


@pytest.mark.parametrize(
    "rate",
    [
        9.5,
        True,
        "9.5",
        Decimal("100.0001"),
        Decimal("-0.0001"),
        Decimal("9.48221"),
        Decimal("NaN"),
        Decimal("Infinity"),
    ],
)
def test_rate_units_refuses_what_cannot_be_priced_exactly(rate):
    with pytest.raises(TermsError) as caught:
        rate_units(rate)
    assert list(caught.value.errors) == ["annual_rate"]


def test_rate_units_out_of_range_message_names_the_whole_percent_limit():
    with pytest.raises(TermsError) as caught:
        rate_units(Decimal("100.5"))
    assert caught.value.errors == {"annual_rate": ["must be between 0 and 100 percent"]}


def test_periods_and_half_up_division():
    assert regular_period(12) == (1, 12_000_000)
    assert regular_period(52) == (1, 52_000_000)
    assert days_period(7) == (7, 365_000_000)
    assert [div_half_up(n, 2) for n in (4, 5, 6, 7)] == [2, 3, 3, 4]  # 2.5 -> 3, 3.5 -> 4
    assert [div_half_up(n, 3) for n in (1, 2, 4, 5)] == [0, 1, 1, 2]
    assert div_half_up(np.array([5, 7], dtype=np.int64), 2).tolist() == [3, 4]


def test_period_profit_rounds_half_up_in_both_engines():
    # 12% a year is 1% a month: 50 paisa earn 0.5 -> 1 paisa, 150 earn 1.5 -> 2, 149 -> 1.
    month = regular_period(12)
    assert [period_profit(b, 120_000, month) for b in (50, 150, 149, 100_000)] == [1, 2, 1, 1000]
    balances = np.array([50, 150, 149, 100_000], dtype=np.int64)
    out = np.empty(4, dtype=np.int64)
    rates = np.full(4, 120_000, dtype=np.int64)
    assert period_profit(balances, rates, month, out=out).tolist() == [1, 2, 1, 1000]
    # 38,499 x 0.40 x 7 / 365 = 295.3345 -> 29,533 paisa; over 9 days 379.7161 -> 37,972.
    week = np.array([3_849_900], dtype=np.int64)
    rate = np.array([400_000], dtype=np.int64)
    assert period_profit(3_849_900, 400_000, days_period(7)) == 29_533
    # Integer paisa in, integer paisa out: a float amount (den / 2) is never money.
    assert type(period_profit(3_849_900, 400_000, days_period(7))) is int
    assert type(period_profit(3_849_900, 400_000, regular_period(12))) is int
    assert period_profit(week, rate, days_period(9), out=np.empty(1, np.int64)).tolist() == [37_972]
    # 36.5% a year over 2 days on 1 paisa: 0.002 -> 0; on 250 paisa 0.5 -> 1.
    assert period_profit(250, 365_000, days_period(2)) == 1
    assert period_profit(249, 365_000, days_period(2)) == 0


def test_flat_weight_and_markup():
    assert flat_weight(regular_period(12), 12) == 365
    assert flat_weight(days_period(30), 12) == 360
    assert flat_weight(days_period(7), 52) == 364
    # Flat 40% on 38,499 for a year (12 x 365 units): 15,399.60 exactly.
    assert flat_markup(3_849_900, 400_000, 12 * 365, 12) == 1_539_960
    # 33.3333% for one month on 38,499: 38,499 x 0.333333 / 12 = 1,069.4156 -> 1,069.42.
    exact = Fraction(3_849_900 * 333_333, 1_000_000 * 12)
    assert flat_markup(3_849_900, 333_333, 365, 12) == half_up(exact) == 106_942
    # Half a paisa goes up: 1 paisa at 50% for one 365-unit month of a 1-per-year product...
    assert flat_markup(1, 500_000, 365, 1) == 1  # 0.5 -> 1
    assert flat_markup(3, 500_000, 365, 1) == 2  # 1.5 -> 2
    column = np.array([3_849_900, 1], dtype=np.int64)
    rates = np.array([400_000, 500_000], dtype=np.int64)
    assert flat_markup(column, rates, 365, 1).tolist() == [1_539_960, 1]


def test_unit_share_rounds_up_to_the_rupee_or_half_up_to_the_paisa():
    assert unit_share(1001, 2, 1) == 501  # 500.5 -> 501
    assert unit_share(2000, 3, 1) == 667  # 666.67 -> 667
    assert unit_share(1000, 3, 1) == 333
    assert unit_share(1_000_000, 3, 100) == 333_400  # 3,333.33 up to 3,334
    assert unit_share(30_000, 3, 100) == 10_000  # exact: not a rupee more
    assert unit_share(30_001, 3, 100) == 10_100


def test_level_payment_regular_is_the_textbook_annuity():
    # 100,000 at 12% over 12 months: 100,000 x 0.01 / (1 - 1.01^-12) = 8,884.8789 rupees.
    one = np.array([1], dtype=np.int64)
    pay = level_payment(one * 10_000_000, one * 120_000, one * 12, (regular_period(12),), True)
    assert abs(float(pay[0]) - 888_487.8868) < 0.01
    # The same through the irregular path with 12 equal periods.
    irregular = level_payment(
        one * 10_000_000, one * 120_000, one * 12, (regular_period(12),) * 12, False
    )
    assert abs(float(irregular[0]) - 888_487.8868) < 0.01
    # A tenor shorter than the periods given stops at the tenor: 2 months of the same.
    two = level_payment(one * 10_000_000, one * 120_000, one * 2, (regular_period(12),) * 12, False)
    assert abs(float(two[0]) - 5_075_124.378) < 0.01  # 100,000 x 0.01 / (1 - 1.01^-2)


def test_instalment_from_float_rounds_half_up_then_to_the_unit():
    amounts = np.array([123_449.4, 123_449.5, 163_879.5, 163_900.0, 163_900.4])
    assert instalment_from_float(amounts, 1).tolist() == [
        123_449,
        123_450,
        163_880,
        163_900,
        163_900,
    ]
    assert instalment_from_float(amounts, 100).tolist() == [
        123_500,
        123_500,
        163_900,
        163_900,
        163_900,
    ]


def test_weekly_due_dates_step_seven_days():
    key = DateKey(date(2024, 1, 1), None, Frequency.WEEKLY, DayCount.ACTUAL_365, False)
    plan = make_plan(key, 4)
    assert plan.due == tuple(date(2024, 1, 1) + timedelta(days=7 * k) for k in range(1, 5))
    fortnight = DateKey(date(2024, 1, 1), None, Frequency.FORTNIGHTLY, DayCount.D30_360, False)
    assert make_plan(fortnight, 2).due == (date(2024, 1, 15), date(2024, 1, 29))
    assert make_plan(fortnight, 2).periods == (regular_period(26),) * 2
