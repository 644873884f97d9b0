"""APR (Regulation Z, Appendix J) on month-end series, single payments and exact boundaries.

Every expected APR here is derived without the code under test: with whole unit-periods only,
Appendix J's general equation is the internal rate of return, which `bracket` below confirms
exactly in `fractions.Fraction` (the equation changes sign between APR - 0.005 and APR +
0.005); single payments follow (b)(5)(v)-(vii), worked in the docstrings.
"""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from lending.finance.apr import CashFlow, UnitPeriod, apr
from lending.finance.money import PAISA, ZERO, quantize, to_money, to_paisa
from lending.finance.schedule import build_schedule
from lending.finance.terms import LoanTerms

D = Decimal


def general_equation(advance: Fraction, payments: list[tuple[Fraction, int]], i: Fraction):
    """Advance less the payments, each discounted (1 + i)^t over its t whole unit-periods."""
    return advance - sum(amount / (1 + i) ** t for amount, t in payments)


def bracket(advance: str, payments: list[tuple[str, int]], per_year: int, apr_pct: str):
    """Assert the exact root of the general equation rounds (half up) to apr_pct."""
    flows = [(Fraction(a), t) for a, t in payments]
    low = Fraction(D(apr_pct) - D("0.005")) / 100 / per_year
    high = Fraction(D(apr_pct) + D("0.005")) / 100 / per_year
    assert (
        general_equation(Fraction(advance), flows, low)
        <= 0
        < general_equation(Fraction(advance), flows, high)
    )


MONTH_ENDS_2025 = [
    date(2025, 2, 28),
    date(2025, 3, 31),
    date(2025, 4, 30),
    date(2025, 5, 31),
    date(2025, 6, 30),
    date(2025, 7, 31),
    date(2025, 8, 31),
    date(2025, 9, 30),
    date(2025, 10, 31),
    date(2025, 11, 30),
    date(2025, 12, 31),
    date(2026, 1, 31),
]


def test_month_end_series_counts_whole_months():
    """10,000 advanced on 31 Jan 2025, 12 x 888.49 on the last day of each month.

    (b)(3)(iv): a series on the 31st uses the month's last day, so 28 Feb, 30 Apr, ... are
    each a whole month after the one before: t = 1, 2, ..., 12 and no fractions. The rate is
    then the textbook annuity's: 888.49 = 10,000 x 0.01 / (1 - 1.01^-12) (888.4879, rounded
    up), i = 1% a month, APR 12.00%.
    """
    bracket("10000", [("888.49", t) for t in range(1, 13)], 12, "12.00")
    payments = [CashFlow(D("888.49"), day) for day in MONTH_ENDS_2025]
    assert apr([CashFlow(D("10000"), date(2025, 1, 31))], payments, UnitPeriod.MONTH) == D("12.00")


def test_a_series_on_the_30th_treats_28_february_as_the_30th():
    # 30 Jan 2025, then 28 Feb, 30 Mar, 30 Apr, ...: again whole months, so again 12.00%.
    later = [date(2025, 2, 28)] + [
        date(2025 + (m > 12), (m - 1) % 12 + 1, 30) for m in range(3, 14)
    ]
    payments = [CashFlow(D("888.49"), day) for day in later]
    assert apr([CashFlow(D("10000"), date(2025, 1, 30))], payments, UnitPeriod.MONTH) == D("12.00")


def test_a_schedule_booked_on_31_january_discloses_its_own_rate():
    """10,000 at 12% over 12 months from 31 Jan 2025, paid to the paisa: 11 x 888.49 and a
    last 888.47 (Kellison's table; the last one absorbs the rounding). The rate is 12% and
    the last payment is 0.02 less, so the APR rounds to 12.00%, as the contract rate."""
    schedule = build_schedule(
        LoanTerms(
            principal=D("10000"),
            annual_rate=D("12"),
            tenor=12,
            start=date(2025, 1, 31),
            rounding=D("0.01"),
        )
    )
    assert [r.due_date for r in schedule.instalments] == MONTH_ENDS_2025
    assert [r.total for r in schedule.instalments] == [D("888.49")] * 11 + [D("888.47")]
    bracket("10000", [("888.49", t) for t in range(1, 12)] + [("888.47", 12)], 12, "12.00")
    assert schedule.apr == D("12.00")


@pytest.mark.parametrize(
    ("payment", "expected"),
    [
        # 1,200,000 advanced, one payment a month later of 1,200,000 x (1 + APR / 1,200):
        # the exact APR is 12.005% (half up: 12.01), 0.035% (0.04), 24.995% (25.00).
        ("1212005.00", "12.01"),
        ("1200035.00", "0.04"),
        ("1224995.00", "25.00"),
        # A paisa less and the exact APR is below the boundary: 12.0049990% -> 12.00.
        ("1212004.99", "12.00"),
    ],
)
def test_an_apr_exactly_on_a_rounding_boundary_rounds_half_up(payment, expected):
    bracket("1200000", [(payment, 1)], 12, expected)
    got = apr(
        [CashFlow(D("1200000"), date(2025, 1, 15))],
        [CashFlow(D(payment), date(2025, 2, 15))],
        UnitPeriod.MONTH,
    )
    assert got == D(expected)


def single(advance: str, start: date, payment: str, on: date) -> Decimal:
    return apr([CashFlow(D(advance), start)], [CashFlow(D(payment), on)], UnitPeriod.SINGLE)


def test_single_payment_after_whole_months_under_a_year():
    # (b)(5)(v): the term (6 months) is the unit-period, 2 a year: 10,000 -> 10,450 is 4.5%
    # per unit-period, APR 9.00%.
    assert single("10000", date(2025, 1, 15), "10450", date(2025, 7, 15)) == D("9.00")
    # Exactly a year: 10,000 -> 11,200 is 12% for the one unit-period a year.
    assert single("10000", date(2025, 1, 15), "11200", date(2026, 1, 15)) == D("12.00")


def test_single_payment_after_more_than_a_year_in_whole_months():
    # (b)(5)(vi): the unit-period is a year: 18 months is t = 1 and f = 6/12, and
    # 10,000 x (1 + 0.5 i)(1 + i) = 11,550 at i = 10% (1.05 x 1.10 = 1.155): APR 10.00%.
    assert single("10000", date(2025, 1, 15), "11550", date(2026, 7, 15)) == D("10.00")


def test_single_payment_after_years_and_odd_days():
    """(b)(5)(vii): 10 Jan 2024 to 1 Mar 2026 is 2 whole years back from 1 Mar 2026 (to
    1 Mar 2024) and 51 days before that (10 Jan -> 1 Mar 2024): t = 2, f = 51/365. At 12%,
    100,000 x (1 + 0.12 x 51 / 365) x 1.12^2 = 100,000 x 1.0167671 x 1.2544 = 127,543.27,
    so that payment is 12.00%."""
    grown = Fraction(100000) * (1 + Fraction(12, 100) * 51 / 365) * Fraction(112, 100) ** 2
    payment = quantize(D(grown.numerator) / D(grown.denominator))
    assert payment == D("127543.27")
    assert single("100000", date(2024, 1, 10), str(payment), date(2026, 3, 1)) == D("12.00")


def test_a_paisa_is_the_unit_and_floats_are_refused():
    assert to_paisa(PAISA) == 1 and to_money(1) == PAISA
    assert quantize(D("1.005")) == D("1.01") and quantize(D("-0.004")) + 0 == ZERO
    assert to_paisa(D("38499.995")) == 3850000  # half up to the paisa
    for amount in (0.1, 1.0, 38499.0):
        with pytest.raises(TypeError):
            to_paisa(amount)
