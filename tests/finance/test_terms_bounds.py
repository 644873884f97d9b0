"""The edges of what LoanTerms accepts, each on both sides of its bound.

Every bound is written here as a number, not read from the module: a bound that moves by one
must fail a test. Monthly terms from 15 January 2024 unless said.
"""

from datetime import date
from decimal import Decimal

import pytest

from lending.finance.errors import TermsError
from lending.finance.schedule import build_schedule
from lending.finance.terms import LoanTerms

D = Decimal
START = date(2024, 1, 15)


def terms(**overrides) -> LoanTerms:
    values = dict(principal=D("100000"), annual_rate=D("30"), tenor=12, start=START)
    return LoanTerms(**{**values, **overrides})


def refused(**overrides) -> dict:
    with pytest.raises(TermsError) as raised:
        terms(**overrides)
    return raised.value.errors


def test_ten_years_of_monthly_instalments_is_the_longest_tenor():
    assert terms(tenor=120).tenor == 120
    assert refused(tenor=121) == {"tenor": ["must be a whole number from 1 to 120"]}


def test_ten_million_rupees_is_the_most_that_can_be_financed():
    assert terms(principal=D("10000000.00")).principal == D("10000000")
    assert refused(principal=D("10000000.01")) == {
        "principal": ["must be more than 0 and at most 10000000"]
    }


def test_the_first_due_date_may_be_at_most_two_months_after_the_start():
    assert terms(first_due=date(2024, 3, 15)).first_due == date(2024, 3, 15)
    assert refused(first_due=date(2024, 3, 16)) == {
        "first_due": ["must be within 2 monthly periods of the start"]
    }


def test_a_weekly_first_due_date_may_be_at_most_fourteen_days_after_the_start():
    weekly = dict(frequency="weekly", tenor=26)
    assert terms(first_due=date(2024, 1, 29), **weekly).first_due == date(2024, 1, 29)
    assert refused(first_due=date(2024, 1, 30), **weekly) == {
        "first_due": ["must be within 2 weekly periods of the start"]
    }


@pytest.mark.parametrize("field", ["principal", "annual_rate", "fee"])
def test_true_is_not_an_amount(field):
    """bool is an int in Python: Decimal(True) would be 1 rupee, or a 1% rate."""
    assert refused(**{field: True}) == {field: ["must be a Decimal (never a float)"]}


def test_a_fee_under_one_rupee_is_a_fee():
    assert terms(fee=D("0.50")).fee == D("0.50")


def test_a_fee_has_at_most_two_decimal_places():
    assert terms(fee=D("12.34")).fee == D("12.34")
    assert refused(fee=D("12.345")) == {"fee": ["must be 0 or more, with at most 2 decimal places"]}


def test_any_amount_above_nothing_can_be_financed():
    assert terms(principal=D("0.50")).principal == D("0.50")
    assert refused(principal=D("0")) == {"principal": ["must be more than 0 and at most 10000000"]}


def test_a_weekly_30_360_loan_earns_a_52nd_of_the_rate_a_week():
    """Rs 10,000 at 52% a year, weekly 30/360: 1% a week. The level instalment is
    10,000 x 0.01 x 1.01^2 / (1.01^2 - 1) = 102.01 / 0.0201 = 5,075.12, up to the rupee 5,076;
    week 1 earns 100.00 (principal 4,976.00, 5,024.00 left), week 2 earns 50.24 and repays
    the 5,024.00 left: 5,074.24."""
    schedule = build_schedule(
        terms(principal=D("10000"), annual_rate=D("52"), tenor=2, frequency="weekly")
    )
    rows = [(r.principal, r.profit, r.total, r.balance_after) for r in schedule.instalments]
    assert rows == [
        (D("4976.00"), D("100.00"), D("5076.00"), D("5024.00")),
        (D("5024.00"), D("50.24"), D("5074.24"), D("0.00")),
    ]


def test_a_terms_error_says_which_field_and_why():
    error = TermsError({"tenor": ["must be a whole number from 1 to 120"], "fee": ["too big"]})
    assert str(error) == "invalid terms: tenor: must be a whole number from 1 to 120; fee: too big"
