"""Rows that servicing rebuilds from booked terms, worked by hand.

- An equal-principal loan is sold at its first (and largest) instalment: its level, in
  `booked_rows` and in the schedule, is the first row's principal and profit (each test below
  works its rows out).
- `reamortise` with a broken first period: 100,000.00 over 3 monthly periods at 24% (2% a
  month). The level instalment at the periods' own rate is 100,000 x 0.02 / (1 - 1.02^-3) =
  34,675.47, rounded up to the rupee: 34,676. The first row earns only the 500.00 it is given
  (the rest of a broken period), the others 2% of the balance; the last takes what is left:
      1: profit    500.00, principal 34,176.00, balance 65,824.00
      2: profit  1,316.48, principal 33,359.52, balance 32,464.48
      3: profit    649.29 (32,464.48 x 2% = 649.2896), principal 32,464.48
"""

from datetime import date
from decimal import Decimal

from lending.finance.enums import Method
from lending.finance.kernel import rate_units
from lending.finance.schedule import booked_rows, build_schedule, periods_of, reamortise
from lending.finance.terms import LoanTerms

D = Decimal


def test_an_equal_principal_loan_is_sold_at_its_first_instalment():
    """100,000 over 12 months in whole rupees: 8,334 of principal a month (100,000 / 12 =
    8,333.33, up to the rupee), 8,326 in the last; 2,000.00 of profit in the first month."""
    terms = LoanTerms(
        principal=D("100000"),
        annual_rate=D("24"),
        tenor=12,
        start=date(2024, 1, 15),
        method=Method.EQUAL_PRINCIPAL,
    )
    rows, level = booked_rows(terms)
    assert level == D("10334.00")
    assert (rows[0].principal, rows[0].profit) == (D("8334.00"), D("2000.00"))
    assert rows[-1].principal == D("8326.00")


def test_a_broken_first_period_earns_only_what_it_is_given():
    terms = LoanTerms(principal=D("100000"), annual_rate=D("24"), tenor=3, start=date(2024, 1, 15))
    rows = reamortise(10_000_000, 50_000, rate_units(D("24")), periods_of(terms), None, 100)
    assert rows.level == 3_467_600
    assert rows.profit == (50_000, 131_648, 64_929)
    assert rows.principal == (3_417_600, 3_335_952, 3_246_448)
    kept = reamortise(10_000_000, 50_000, rate_units(D("24")), periods_of(terms), 3_000_000, 100)
    # A kept level of 30,000.00: 29,500.00 of principal (balance 70,500.00), then 1,410.00 of
    # profit and 28,590.00 (balance 41,910.00), then the last row takes the 41,910.00 left.
    assert kept.level == 3_000_000
    assert kept.profit == (50_000, 141_000, 83_820)
    assert kept.principal == (2_950_000, 2_859_000, 4_191_000)


def test_a_first_period_earning_more_than_the_level_repays_no_principal():
    """Given 40,000.00 of profit for its broken first period against a kept 30,000.00 level,
    the first row repays no principal (never a negative one); the next earns 2% of the whole
    100,000.00 (2,000.00) and repays 28,000.00; the last takes the 72,000.00 left, earning
    1,440.00."""
    terms = LoanTerms(principal=D("100000"), annual_rate=D("24"), tenor=3, start=date(2024, 1, 15))
    rows = reamortise(10_000_000, 4_000_000, rate_units(D("24")), periods_of(terms), 3_000_000, 100)
    assert rows.principal == (0, 2_800_000, 7_200_000)
    assert rows.profit == (4_000_000, 200_000, 144_000)


def test_an_equal_principal_schedule_is_sold_at_its_first_row_not_its_last():
    """100,000 over 12 months in whole rupees: 100,000 / 12 = 8,333.33 rounds up to 8,334 of
    principal a month, the last row takes the 8,326 left (100,000 - 11 x 8,334); the first
    month's profit is 2% of 100,000 = 2,000.00, the last's 2% of 8,326 = 166.52. The loan is
    sold at its first instalment, 10,334.00."""
    schedule = build_schedule(
        LoanTerms(
            principal=D("100000"),
            annual_rate=D("24"),
            tenor=12,
            start=date(2024, 1, 15),
            method=Method.EQUAL_PRINCIPAL,
        )
    )
    first, last = schedule.instalments[0], schedule.instalments[-1]
    assert (first.principal, first.profit) == (D("8334.00"), D("2000.00"))
    assert (last.principal, last.profit) == (D("8326.00"), D("166.52"))
    assert schedule.instalment_amount == D("10334.00")


def test_a_two_month_equal_principal_loan_with_an_odd_rupee():
    """100,001 over 2 months: 50,001 then 50,000 of principal; 2,000.02 of profit in the first
    month (2% of 100,001): sold at 52,001.02."""
    terms = LoanTerms(
        principal=D("100001"),
        annual_rate=D("24"),
        tenor=2,
        start=date(2024, 1, 15),
        method=Method.EQUAL_PRINCIPAL,
    )
    schedule = build_schedule(terms)
    assert [(r.principal, r.profit) for r in schedule.instalments] == [
        (D("50001.00"), D("2000.02")),
        (D("50000.00"), D("1000.00")),
    ]
    assert schedule.instalment_amount == D("52001.02")
    assert booked_rows(terms)[1] == D("52001.02")
