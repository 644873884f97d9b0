"""Input a caller can get wrong, refused with the field named (terms, APR cash flows), and the
payoff of a settled book. Each case is one the rest of the suite never sends."""

from datetime import date
from decimal import Decimal

import pytest

from lending.finance.allocation import book_of, state_from_schedule
from lending.finance.apr import CashFlow, UnitPeriod, apr
from lending.finance.errors import TermsError
from lending.finance.schedule import build_schedule
from lending.finance.terms import LoanTerms

D = Decimal
START = date(2024, 1, 15)


def terms(**overrides) -> LoanTerms:
    values = dict(principal=D("100000"), annual_rate=D("30"), tenor=12, start=START)
    return LoanTerms(**{**values, **overrides})


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (dict(principal="12,000"), "principal", "must be a number"),
        (dict(annual_rate="thirty"), "annual_rate", "must be a number"),
        (dict(principal="NaN"), "principal", "must be a finite number"),
        (dict(fee="Infinity"), "fee", "must be a finite number"),
        (dict(islamic="yes"), "islamic", "must be true or false"),
        (dict(fee_financed=1), "fee_financed", "must be true or false"),
        (dict(start="2024-01-15"), "start", "must be a date"),
        (dict(first_due="2024-02-15"), "first_due", "must be a date"),
    ],
)
def test_terms_refuse_what_is_not_a_number_a_flag_or_a_date(overrides, field, message):
    with pytest.raises(TermsError) as raised:
        terms(**overrides)
    assert raised.value.errors == {field: [message]}


def test_a_number_given_as_text_is_read_exactly():
    assert terms(principal="100000.50").principal == D("100000.50")


@pytest.mark.parametrize("bad", [D("-1.00"), 1000.0])
def test_apr_refuses_a_negative_or_float_payment_beside_good_ones(bad):
    advances = [CashFlow(D("1000.00"), START)]
    payments = [CashFlow(D("1100.00"), date(2024, 2, 15)), CashFlow(bad, date(2024, 3, 15))]
    with pytest.raises(TermsError) as raised:
        apr(advances, payments, UnitPeriod.MONTH)
    assert raised.value.errors == {"payments": ["every amount must be a Decimal of 0 or more"]}


def test_a_settled_book_owes_nothing_to_pay_off():
    book = book_of(state_from_schedule(build_schedule(terms())))
    assert book.payoff(date(2024, 3, 1)) > 0
    book.closed = True
    assert book.payoff(date(2024, 3, 1)) == 0
