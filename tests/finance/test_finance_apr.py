"""APR by Regulation Z Appendix J: the appendix's own worked examples, and an IRR cross-check.

Source of the golden values: 12 CFR 1026 Appendix J, paragraph (c) "Examples for the
actuarial method" (https://www.consumerfinance.gov/rules-policy/regulations/1026/j/). The
appendix states amounts, payment counts, periods and the APR; the calendar dates below put
the flows on those periods (the same dates a public test suite of the appendix uses).
"""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.finance.apr import CashFlow, Position, UnitPeriod, apr, apr_of_positions, months_back
from lending.finance.dates import add_months
from lending.finance.errors import TermsError

D = Decimal


def monthly(first: date, count: int, amount: str, months: int = 1) -> list[CashFlow]:
    return [CashFlow(D(amount), add_months(first, months * k)) for k in range(count)]


def every(first: date, count: int, amount: str, days: int) -> list[CashFlow]:
    return [CashFlow(D(amount), first + timedelta(days=days * k)) for k in range(count)]


def semimonthly(first: date, count: int, amount: str) -> list[CashFlow]:
    """Payments on the 1st and the 16th, from `first` (a 1st)."""
    flows = []
    for k in range(count):
        day = add_months(first, k // 2)
        flows.append(CashFlow(D(amount), day if k % 2 == 0 else day.replace(day=16)))
    return flows


def advance(amount: str, on: date) -> list[CashFlow]:
    return [CashFlow(D(amount), on)]


APPENDIX_J = [
    # (c)(1)(i) monthly payments, regular first period: $5,000, 24 x $230 -> 9.69%
    (
        "c1i",
        advance("5000", date(1978, 1, 10)),
        monthly(date(1978, 2, 10), 24, "230"),
        UnitPeriod.MONTH,
        "9.69",
    ),
    # (c)(1)(ii) monthly payments, long first period: $6,000, 36 x $200 -> 11.82%
    (
        "c1ii",
        advance("6000", date(1978, 2, 10)),
        monthly(date(1978, 4, 1), 36, "200"),
        UnitPeriod.MONTH,
        "11.82",
    ),
    # (c)(1)(iii) semimonthly payments, short first period: $5,000, 24 x $219.17 -> 10.34%
    (
        "c1iii",
        advance("5000", date(1978, 2, 23)),
        semimonthly(date(1978, 3, 1), 24, "219.17"),
        UnitPeriod.SEMIMONTH,
        "10.34",
    ),
    # (c)(1)(iv) quarterly payments, long first period: $10,000, 40 x $385 -> 8.97%
    (
        "c1iv",
        advance("10000", date(1978, 5, 23)),
        monthly(date(1978, 10, 1), 40, "385", 3),
        UnitPeriod.QUARTER,
        "8.97",
    ),
    # (c)(1)(v) weekly payments, long first period: $500, 30 x $17.60 -> 14.96%
    (
        "c1v",
        advance("500", date(1978, 3, 20)),
        every(date(1978, 4, 21), 30, "17.60", 7),
        UnitPeriod.WEEK,
        "14.96",
    ),
    # (c)(2)(i) monthly, irregular first payment: $5,000, $250 then 23 x $230 -> 10.08%
    (
        "c2i",
        advance("5000", date(1978, 1, 10)),
        advance("250", date(1978, 2, 10)) + monthly(date(1978, 3, 10), 23, "230"),
        UnitPeriod.MONTH,
        "10.08",
    ),
    # (c)(2)(ii) every 4 weeks, long first period, irregular first payment -> 28.50%
    (
        "c2ii",
        advance("400", date(1978, 3, 18)),
        advance("39.50", date(1978, 4, 20)) + every(date(1978, 5, 18), 11, "38.31", 28),
        UnitPeriod.FOUR_WEEKS,
        "28.50",
    ),
    # (c)(3)(i) monthly, irregular final payment: 23 x $230 then $280 -> 10.50%
    (
        "c3i",
        advance("5000", date(1978, 1, 10)),
        monthly(date(1978, 2, 10), 23, "230") + advance("280", date(1980, 1, 10)),
        UnitPeriod.MONTH,
        "10.50",
    ),
    # (c)(3)(ii) every 2 weeks, short first period, irregular final payment -> 12.22%
    (
        "c3ii",
        advance("200", date(1978, 4, 3)),
        every(date(1978, 4, 11), 19, "9.50", 14) + advance("30", date(1979, 1, 2)),
        UnitPeriod.TWO_WEEKS,
        "12.22",
    ),
    # (c)(4)(i) monthly, irregular first and final payments -> 10.90%
    (
        "c4i",
        advance("5000", date(1978, 1, 10)),
        advance("250", date(1978, 2, 10))
        + monthly(date(1978, 3, 10), 22, "230")
        + advance("280", date(1980, 1, 10)),
        UnitPeriod.MONTH,
        "10.90",
    ),
    # (c)(4)(ii) every 2 months, short first period, irregular first and final payments -> 7.30%
    (
        "c4ii",
        advance("8000", date(1978, 1, 10)),
        advance("449.36", date(1978, 3, 1))
        + monthly(date(1978, 5, 1), 18, "465", 2)
        + advance("200", date(1981, 5, 1)),
        UnitPeriod.TWO_MONTHS,
        "7.30",
    ),
    # (c)(5)(i) single advance, single payment, term under a year in days -> 11.45%
    (
        "c5i",
        advance("1000", date(1978, 1, 3)),
        advance("1080", date(1978, 9, 15)),
        UnitPeriod.SINGLE,
        "11.45",
    ),
]


@pytest.mark.parametrize(
    ("name", "advances", "payments", "unit", "expected"),
    APPENDIX_J,
    ids=[case[0] for case in APPENDIX_J],
)
def test_appendix_j_examples(name, advances, payments, unit, expected):
    assert apr(advances, payments, unit) == D(expected)


def test_general_equation_with_the_appendix_own_periods():
    # (c)(1)(ii) as the appendix states it: t = 1 whole month and f = 19/30 for the first
    # payment (10 Feb -> 1 Apr), then one more month for each payment.
    payments = [Position(D("200"), 1 + k, Fraction(19, 30)) for k in range(36)]
    assert apr_of_positions([Position(D("6000"), 0)], payments, 12) == D("11.82")


@pytest.mark.parametrize(
    ("start", "later", "series_day", "expected"),
    [
        (date(1978, 2, 10), date(1978, 4, 1), 1, (1, 19)),
        (date(2024, 1, 31), date(2024, 2, 29), 31, (1, 0)),  # month-end series: last day counts
        (date(2024, 1, 30), date(2025, 2, 28), 30, (13, 0)),  # the 30th series uses 28 February
        (date(2024, 1, 15), date(2024, 1, 20), 20, (0, 5)),
    ],
)
def test_months_are_counted_back_from_the_later_date(start, later, series_day, expected):
    assert months_back(start, later, series_day) == expected


@settings(max_examples=60, deadline=None)
@given(
    amount=st.integers(10_000, 5_000_000),
    count=st.integers(2, 36),
    markup=st.integers(0, 60),
    per_month=st.sampled_from([1, 0]),
)
def test_regular_payments_match_an_independent_irr(amount, count, markup, per_month):
    # With whole unit-periods only, Appendix J is the internal rate of return times the
    # periods a year: numpy-financial's irr is an independent computation of the same rate.
    total = amount * (100 + markup) // 100
    payment = D(total // count) / 100 + D("0.01")
    start = date(2024, 1, 15)
    if per_month:
        flows, unit, per_year = monthly(date(2024, 2, 15), count, str(payment)), "month", 12
    else:
        flows, unit, per_year = every(date(2024, 1, 22), count, str(payment), 7), "week", 52
    got = apr(advance(str(D(amount) / 100), start), flows, UnitPeriod(unit))
    expected = float(npf.irr([-amount / 100] + [float(payment)] * count)) * per_year * 100
    assert abs(got - D(repr(expected))) <= D("0.0051")


@pytest.mark.parametrize(
    ("advances", "payments", "unit", "field"),
    [
        ([], advance("100", date(2024, 2, 1)), "month", "advances"),
        (advance("100", date(2024, 1, 1)), [], "month", "payments"),
        (
            advance("100", date(2024, 1, 1)),
            advance("110", date(2024, 2, 1)),
            "fortnight",
            "unit_period",
        ),
        (advance("100", date(2024, 1, 1)), advance("-5", date(2024, 2, 1)), "month", "payments"),
        (advance("100", date(2024, 2, 1)), advance("110", date(2024, 1, 1)), "month", "payments"),
        (advance("100", date(2024, 2, 1)), advance("110", date(2024, 2, 1)), "single", "payments"),
        (advance("100", date(2024, 2, 1)), advance("10", date(2024, 3, 1)), "month", "payments"),
        (
            advance("100", date(2024, 1, 1)) * 2,
            advance("210", date(2024, 2, 1)),
            "single",
            "unit_period",
        ),
    ],
)
def test_bad_apr_input_names_the_field(advances, payments, unit, field):
    with pytest.raises(TermsError) as raised:
        apr(advances, payments, unit)
    assert field in raised.value.errors


def test_zero_cost_credit_has_zero_apr():
    assert apr(
        advance("1200", date(2024, 1, 10)), monthly(date(2024, 2, 10), 12, "100"), UnitPeriod.MONTH
    ) == D("0.00")
