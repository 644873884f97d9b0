"""The one-loan engine: published tables, calendar rules, fees and properties of every schedule."""

from datetime import date
from decimal import Decimal

import pytest
from finance_strategies import any_terms
from hypothesis import given, settings

from lending.finance.enums import DayCount, Frequency, Method
from lending.finance.errors import TermsError
from lending.finance.schedule import build_schedule
from lending.finance.terms import LoanTerms

D = Decimal

# The textbook annuity: 10,000 at 12% a year (1% a month) over 12 months, payment 888.49,
# interest rounded to the cent each month, the last payment absorbing the rounding (888.47).
# It is the standard worked example of loan amortisation (payment = 10,000 x 0.01 /
# (1 - 1.01^-12) = 888.4879), e.g. the amortisation chapter of Kellison, The Theory of
# Interest, and the HP-12C owner's handbook amortisation section.
ANNUITY_12 = [
    (1, "788.49", "100.00", "888.49", "9211.51"),
    (2, "796.37", "92.12", "888.49", "8415.14"),
    (3, "804.34", "84.15", "888.49", "7610.80"),
    (4, "812.38", "76.11", "888.49", "6798.42"),
    (5, "820.51", "67.98", "888.49", "5977.91"),
    (6, "828.71", "59.78", "888.49", "5149.20"),
    (7, "837.00", "51.49", "888.49", "4312.20"),
    (8, "845.37", "43.12", "888.49", "3466.83"),
    (9, "853.82", "34.67", "888.49", "2613.01"),
    (10, "862.36", "26.13", "888.49", "1750.65"),
    (11, "870.98", "17.51", "888.49", "879.67"),
    (12, "879.67", "8.80", "888.47", "0.00"),
]
# Constant principal (HP-12C handbook, "loans with a constant amount paid towards principal"):
# 12,000 at 12% over 12 months, 1,000 of principal each month, interest on the balance.
EQUAL_PRINCIPAL_12 = [
    (n, "1000.00", f"{130 - 10 * n}.00", f"{1130 - 10 * n}.00", f"{12000 - 1000 * n}.00")
    for n in range(1, 13)
]


def terms(**overrides) -> LoanTerms:
    values = dict(principal=D("100000"), annual_rate=D("30"), tenor=12, start=date(2024, 1, 15))
    return LoanTerms(**{**values, **overrides})


def table(schedule) -> list[tuple]:
    return [
        (r.n, str(r.principal), str(r.profit), str(r.total), str(r.balance_after))
        for r in schedule.instalments
    ]


@pytest.mark.parametrize(
    ("overrides", "golden", "instalment", "apr"),
    [
        (
            dict(principal=D("10000"), annual_rate=D("12"), rounding=D("0.01")),
            ANNUITY_12,
            "888.49",
            "12.00",
        ),
        (
            dict(principal=D("12000"), annual_rate=D("12"), method=Method.EQUAL_PRINCIPAL),
            EQUAL_PRINCIPAL_12,
            "1120.00",
            "12.00",
        ),
    ],
)
def test_published_tables(overrides, golden, instalment, apr):
    schedule = build_schedule(terms(**overrides))
    assert table(schedule) == golden
    assert schedule.instalment_amount == D(instalment)
    assert schedule.apr == D(apr)


def test_flat_add_on_example():
    # The add-on (flat) example of consumer-finance texts: 10,000 at 10% flat for 2 years is
    # 2,000 of markup, 24 instalments of 500.00; its APR is about 18.2% (18.16 exactly).
    schedule = build_schedule(
        terms(principal=D("10000"), annual_rate=D("10"), tenor=24, method=Method.FLAT)
    )
    assert schedule.total_profit == D("2000.00")
    assert {row.total for row in schedule.instalments} == {D("500.00")}
    # The markup is spread evenly by cumulative rounding: 83.33 or 83.34 each month.
    assert {row.profit for row in schedule.instalments} == {D("83.33"), D("83.34")}
    assert schedule.apr == D("18.16")


def test_instalment_is_rounded_up_to_the_rupee_and_the_last_one_absorbs():
    schedule = build_schedule(terms())
    assert schedule.instalment_amount == D("9749.00")  # pmt 9,748.71 rounded up
    assert {r.total for r in schedule.instalments[:-1]} == {D("9749.00")}
    assert schedule.instalments[-1].total < D("9749.00")
    assert sum(r.principal for r in schedule.instalments) == D("100000.00")


def test_monthly_due_dates_keep_the_day_clamped_to_month_end():
    schedule = build_schedule(terms(start=date(2024, 1, 31), tenor=4))
    assert [r.due_date for r in schedule.instalments] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]


def test_weekly_and_fortnightly_due_dates():
    weekly = build_schedule(terms(frequency=Frequency.WEEKLY, tenor=3))
    fortnightly = build_schedule(terms(frequency=Frequency.FORTNIGHTLY, tenor=2))
    assert [r.due_date for r in weekly.instalments] == [
        date(2024, 1, 22),
        date(2024, 1, 29),
        date(2024, 2, 5),
    ]
    assert [r.due_date for r in fortnightly.instalments] == [date(2024, 1, 29), date(2024, 2, 12)]


def test_due_dates_roll_past_public_holidays_and_sundays_only_when_asked():
    # 14 August 2025 is Independence Day (Thursday); 31 March-2 April 2025 is Eid al-Fitr;
    # 14 September 2025 is a Sunday. Profit still accrues to the nominal dates.
    plain = build_schedule(terms(start=date(2025, 7, 14), tenor=3))
    rolled = build_schedule(terms(start=date(2025, 7, 14), tenor=3, roll_holidays=True))
    assert [r.due_date for r in plain.instalments] == [
        date(2025, 8, 14),
        date(2025, 9, 14),
        date(2025, 10, 14),
    ]
    assert [r.due_date for r in rolled.instalments] == [
        date(2025, 8, 15),
        date(2025, 9, 15),
        date(2025, 10, 14),
    ]
    assert table(plain) == table(rolled)
    eid = build_schedule(
        terms(start=date(2025, 2, 28), first_due=date(2025, 3, 31), tenor=1, roll_holidays=True)
    )
    assert eid.instalments[0].due_date == date(2025, 4, 3)


def test_long_first_period_earns_actual_days():
    # 45 days to the first due date: 100,000 x 30% x 45 / 365 = 3,698.63, then 2.5% a month.
    # The level instalment discounts the first period at 1 + 0.30 x 45 / 365 = 1.036986 and
    # the others at 1.025: 100,000 / (1/1.036986 x (1 - 1.025^-12) / 0.025 x 1.025)
    # = 100,000 / 10.13920 = 9,862.71, up to the rupee 9,863.00. Row 1's principal is
    # 9,863.00 - 3,698.63 = 6,164.37, leaving 93,835.63, which earns 93,835.63 x 0.025 =
    # 2,345.89 in the second (regular) month. (A Fraction derivation of every row is in
    # test_irregular_periods_independent.py.)
    schedule = build_schedule(terms(first_due=date(2024, 2, 29)))
    first, second = schedule.instalments[:2]
    assert schedule.instalment_amount == D("9863.00")
    assert (first.profit, first.principal, first.balance_after) == (
        D("3698.63"),
        D("6164.37"),
        D("93835.63"),
    )
    assert (second.profit, second.principal) == (D("2345.89"), D("7517.11"))
    regular = build_schedule(terms(first_due=date(2024, 2, 15)))
    assert regular.instalments[0].profit == D("2500.00")  # one regular period: rate / 12


def test_actual_365_accrues_every_period_on_its_days():
    schedule = build_schedule(terms(day_count=DayCount.ACTUAL_365, tenor=2))
    # 15 Jan -> 15 Feb is 31 days.
    assert schedule.instalments[0].profit == D("2547.95")


def test_fee_financed_is_repaid_with_the_principal_and_earns_profit():
    schedule = build_schedule(terms(fee=D("2000")))
    assert schedule.financed_amount == D("102000.00")
    assert sum(r.principal for r in schedule.instalments) == D("102000.00")
    assert schedule.amount_advanced == D("100000.00")
    assert schedule.upfront_fee == D("0.00")
    assert {r.fee for r in schedule.instalments} == {D("0.00")}
    assert schedule.apr > build_schedule(terms()).apr


def test_fee_paid_up_front_is_a_finance_charge_outside_the_schedule():
    without = build_schedule(terms())
    upfront = build_schedule(terms(fee=D("2000"), fee_financed=False))
    assert table(upfront) == table(without)
    assert upfront.total_payable == without.total_payable + D("2000")
    assert upfront.amount_advanced == D("98000.00")
    assert upfront.apr > without.apr


def test_murabaha_fixes_the_sale_price_and_calls_it_profit():
    schedule = build_schedule(terms(islamic=True, method=Method.FLAT))
    assert schedule.sale_price == schedule.financed_amount + schedule.total_profit
    assert schedule.total_profit == D("30000.00")


def test_zero_rate_costs_nothing():
    schedule = build_schedule(terms(annual_rate=D("0"), principal=D("10000"), tenor=3))
    assert schedule.total_profit == D("0.00") and schedule.apr == D("0.00")
    assert [r.total for r in schedule.instalments] == [D("3334.00"), D("3334.00"), D("3332.00")]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        (dict(principal=D("0")), {"principal"}),
        (dict(principal=D("-5")), {"principal"}),
        (dict(principal=D("10.001")), {"principal"}),
        (dict(principal=1000.0), {"principal"}),
        (dict(tenor=0), {"tenor"}),
        (dict(tenor=-3), {"tenor"}),
        (dict(tenor=121), {"tenor"}),
        (dict(method="balloon"), {"method"}),
        (dict(frequency="daily"), {"frequency"}),
        (dict(day_count="30/365"), {"day_count"}),
        (dict(annual_rate=D("-1")), {"annual_rate"}),
        (dict(annual_rate=D("100.01")), {"annual_rate"}),
        (dict(first_due=date(2024, 1, 15)), {"first_due"}),
        (dict(first_due=date(2024, 1, 1)), {"first_due"}),
        (dict(first_due=date(2024, 5, 1)), {"first_due"}),
        (dict(rounding=D("10")), {"rounding"}),
        (dict(fee=D("-1")), {"fee"}),
        (dict(fee=D("100000")), {"fee"}),
        (dict(principal=D("0"), tenor=0, rounding=D("5")), {"principal", "tenor", "rounding"}),
    ],
)
def test_bad_terms_name_their_fields(overrides, fields):
    with pytest.raises(TermsError) as raised:
        terms(**overrides)
    assert set(raised.value.errors) == fields
    assert isinstance(raised.value, ValueError)


@settings(max_examples=150, deadline=None)
@given(any_terms())
def test_every_schedule_repays_exactly(loan):
    schedule = build_schedule(loan)
    rows = schedule.instalments
    assert sum(r.principal for r in rows) == schedule.financed_amount
    assert rows[-1].balance_after == D("0.00")
    assert all(r.balance_after >= 0 and r.principal >= 0 and r.profit >= 0 for r in rows)
    assert all(r.total == r.principal + r.profit + r.fee for r in rows)
    assert all(r.principal.as_tuple().exponent == -2 for r in rows)
    balances = [schedule.financed_amount] + [r.balance_after for r in rows]
    assert all(a - r.principal == b for a, b, r in zip(balances, balances[1:], rows, strict=False))
    assert schedule.total_payable == sum(r.total for r in rows) + schedule.upfront_fee
    assert [r.due_date for r in rows] == sorted(r.due_date for r in rows)


@settings(max_examples=100, deadline=None)
@given(any_terms(methods=(Method.REDUCING, Method.FLAT)))
def test_level_instalments_are_whole_rupees_when_the_product_says_so(loan):
    schedule = build_schedule(loan)
    level = schedule.instalment_amount
    rows = schedule.instalments
    if loan.rounding == D("1"):
        assert level == level.to_integral_value()
    # Every instalment but the last is the level one unless a tiny balance ran out early.
    assert all(r.total == level or r.balance_after == 0 or r.principal == 0 for r in rows[:-1])
