"""APR of a loan advanced in more than one tranche, worked by hand.

Advances of 1,000.00 on 15 January and 1,000.00 on 15 February 2025, repaid by one payment
of 2,030.10 on 15 March: at 1% a month, 1,000 x 1.01^2 + 1,000 x 1.01 = 1,020.10 + 1,010.00 =
2,030.10 exactly, so the APR is 12 x 1% = 12.00%. Appendix J places every flow from the FIRST
advance (the earliest date, whatever the order they are listed in).
"""

import importlib
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.finance.apr import CashFlow, UnitPeriod, apr
from lending.finance.errors import TermsError

D = Decimal
JAN, FEB = CashFlow(D("1000.00"), date(2025, 1, 15)), CashFlow(D("1000.00"), date(2025, 2, 15))


@pytest.mark.parametrize("advances", [[JAN, FEB], [FEB, JAN]], ids=["in order", "reversed"])
def test_two_advances_one_month_apart_at_one_percent_a_month(advances):
    assert apr(advances, [CashFlow(D("2030.10"), date(2025, 3, 15))], UnitPeriod.MONTH) == D(
        "12.00"
    )


def test_the_same_repayment_for_both_advanced_on_the_first_day_is_a_lower_rate():
    """2,000.00 all advanced on 15 January for the same 2,030.10 on 15 March: the borrower
    holds the second 1,000.00 a month longer, so the rate is lower: 2,000 x (1 + i)^2 =
    2,030.10, i = sqrt(1.01505) - 1 = 0.74969% a month, 12 x i = 9.00%."""
    both = [CashFlow(D("2000.00"), date(2025, 1, 15))]
    assert apr(both, [CashFlow(D("2030.10"), date(2025, 3, 15))], UnitPeriod.MONTH) == D("9.00")


# The edges of what apr() accepts, each worked by hand at 1% a month (12.00%) unless said.
M = UnitPeriod.MONTH


def flows(*pairs) -> list[CashFlow]:
    return [CashFlow(D(amount), on) for amount, on in pairs]


def test_a_payment_between_two_advances():
    """1,000 on 15 Jan and 15 Mar; 1,010 on 15 Feb and 15 Apr: at 1% a month the payments'
    value on 15 Jan, 1,010/1.01 + 1,010/1.01^3 = 1,000 + 1,000/1.01^2, is the advances'."""
    advances = flows(("1000.00", date(2025, 1, 15)), ("1000.00", date(2025, 3, 15)))
    payments = flows(("1010.00", date(2025, 2, 15)), ("1010.00", date(2025, 4, 15)))
    assert apr(advances, payments, M) == D("12.00")


def test_a_payment_on_the_day_of_the_advance_beside_later_ones():
    """10.00 back on the day, 999.90 a month later: 10 + 999.90/1.01 = 1,000."""
    payments = flows(("10.00", date(2025, 1, 15)), ("999.90", date(2025, 2, 15)))
    assert apr(flows(("1000.00", date(2025, 1, 15))), payments, M) == D("12.00")


def test_repaying_exactly_half_is_accepted_and_is_minus_fifty_percent_a_month():
    """1,000 = 500/(1 + i): i = -50% a month, -600% a year (the refusal is for less than half)."""
    payments = flows(("500.00", date(2025, 2, 15)))
    assert apr(flows(("1000.00", date(2025, 1, 15))), payments, M) == D("-600.00")
    with pytest.raises(TermsError):
        apr(flows(("1000.00", date(2025, 1, 15))), flows(("499.99", date(2025, 2, 15))), M)


def test_a_one_rupee_advance():
    """1.00 repaid with 1.05 a month later: 5% a month, 60.00%."""
    payments = flows(("1.05", date(2025, 2, 15)))
    assert apr(flows(("1.00", date(2025, 1, 15))), payments, M) == D("60.00")


@pytest.mark.parametrize("advance", [D("0"), 1000.0], ids=["zero", "float"])
def test_an_advance_of_nothing_or_a_float_is_refused(advance):
    with pytest.raises(TermsError) as raised:
        apr([CashFlow(advance, date(2025, 1, 15))], flows(("1010", date(2025, 2, 15))), M)
    assert raised.value.errors == {"advances": ["must have an amount above 0"]}


def test_a_single_payment_a_year_and_364_days_on_at_100_percent():
    """(b)(5)(vii): 10,000 on 10 Jan 2025, one payment on 9 Jan 2027: one whole year back to
    9 Jan 2026, then 364 days as a fraction of 365. At 100%: 10,000 x (1 + 364/365) x 2 =
    39,945.21 (a fraction of 366 days would give 100.14%; of a 13-month year, another)."""
    single = apr(
        flows(("10000", date(2025, 1, 10))),
        flows(("39945.21", date(2027, 1, 9))),
        UnitPeriod.SINGLE,
    )
    assert single == D("100.00")


@pytest.mark.parametrize("cents_off", [1, -1, 4, -25])
def test_the_apr_is_the_exact_cent_even_when_the_float_root_is_off(monkeypatch, cents_off):
    """The float solver only gives a starting cent: the exact-Decimal check walks it to the
    cent whose half-cent interval holds the root. The two-advance loan above is exactly 1% a
    month; the solver is made to say a few cents of APR away, above and below."""
    module = importlib.import_module("lending.finance.apr")  # the package names a function apr
    monkeypatch.setattr(module, "_solve", lambda flows: 0.01 + cents_off * 0.0001 / 12)
    payments = flows(("2030.10", date(2025, 3, 15)))
    assert apr([JAN, FEB], payments, M) == D("12.00")


def test_more_paid_back_on_the_first_day_than_advanced_has_no_rate():
    """1,100 back on the day of a 1,000 advance, and 1.00 later: at any rate the payments
    weigh more than the advance, so no rate solves the equation: refused, not a guess."""
    payments = flows(("1100.00", date(2025, 1, 15)), ("1.00", date(2025, 2, 15)))
    with pytest.raises(TermsError) as raised:
        apr(flows(("1000.00", date(2025, 1, 15))), payments, M)
    assert raised.value.errors == {"payments": ["no rate repays the advances with them"]}


def _calendar_months_later(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, day.day)


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(date(2023, 1, 1), date(2027, 12, 28)).filter(lambda d: d.day <= 28),
    whole_months=st.integers(1, 12),
    odd_days=st.integers(1, 365),
    by_months=st.booleans(),
    advance=st.integers(1_000, 500_000),
    cost=st.fractions(Fraction(1, 1000), Fraction(9, 10)),
)
def test_a_single_payment_within_a_year_is_simple_interest(
    start, whole_months, odd_days, by_months, advance, cost
):
    """(b)(5)(v): a term of at most a year is one unit-period, so the APR is the period's rate
    times the periods in a year: (P/A - 1) x 12/months for whole months, x 365/days
    otherwise, to the cent (worked here in exact fractions, not by the code under test)."""
    on = _calendar_months_later(start, whole_months) if by_months else None
    if on is None or on.day != start.day:
        on = start + timedelta(days=odd_days)
        if on.day == start.day:  # whole months after all: leave it to the other branch
            return
    payment = (
        Decimal(advance) * (1 + Decimal(cost.numerator) / Decimal(cost.denominator))
    ).quantize(Decimal("0.01"))
    rate = Fraction(payment) / advance - 1
    periods = (
        Fraction(12, whole_months) if on.day == start.day else Fraction(365, (on - start).days)
    )
    exact = rate * periods * 100
    expected = Decimal(exact.numerator) / Decimal(exact.denominator)
    got = apr(flows((str(advance), start)), [CashFlow(payment, on)], UnitPeriod.SINGLE)
    assert got == expected.quantize(Decimal("0.01"), ROUND_HALF_UP), (got, expected)


def test_payments_all_on_the_day_of_the_advance_are_refused_as_such():
    with pytest.raises(TermsError) as raised:
        apr(flows(("1000.00", date(2025, 1, 15))), flows(("1000.00", date(2025, 1, 15))), M)
    assert raised.value.errors == {"payments": ["must end after the first advance"]}
