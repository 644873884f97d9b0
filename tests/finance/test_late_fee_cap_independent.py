"""A percentage late fee below, at and above its cap, with amounts worked by hand.

The fee is fixed + percent x the overdue amount, half up to the paisa, and never more than the
cap; e.g. QIST-FLAT charges 2% capped at Rs 1,500, so a Rs 6,990 instalment costs Rs 139.80,
not Rs 1,500.
"""

from datetime import date
from decimal import Decimal

import pytest

from lending.finance.allocation import booked_state
from lending.finance.enums import Method, TxnKind
from lending.finance.late_fees import LateFeeRule, late_fee
from lending.finance.replay import ServicingTerms, Txn, replay
from lending.finance.terms import LoanTerms

D = Decimal
DUE = date(2026, 3, 10)
TWO_PCT_CAPPED = LateFeeRule(percent=D("2"), cap=D("1500"))


@pytest.mark.parametrize(
    ("rule", "overdue", "expected"),
    [
        # 6,990.00 x 2 / 100 = 139.80: far below the cap, so the cap does not apply.
        (TWO_PCT_CAPPED, "6990.00", "139.80"),
        # 74,999.99 x 2 / 100 = 1,499.9998 -> 1,500.00 (half up), equal to the cap.
        (TWO_PCT_CAPPED, "74999.99", "1500.00"),
        # 74,999.00 x 2 / 100 = 1,499.98: one rupee of overdue below the cap still shows.
        (TWO_PCT_CAPPED, "74999.00", "1499.98"),
        # 80,000.00 x 2 / 100 = 1,600.00: above the cap, so 1,500.00.
        (TWO_PCT_CAPPED, "80000.00", "1500.00"),
        # Fixed plus percent, both counted before the cap: 200 + 139.80 = 339.80.
        (LateFeeRule(fixed=D("200"), percent=D("2"), cap=D("1500")), "6990.00", "339.80"),
        # ... and capped together: 200 + 1,400.00 (2% of 70,000) = 1,600 -> 1,500.00.
        (LateFeeRule(fixed=D("200"), percent=D("2"), cap=D("1500")), "70000.00", "1500.00"),
        # Two-place percent, half up: 1,234.58 x 1.25 / 100 = 15.43225 -> 15.43;
        # 1,234.60 x 1.25 / 100 = 15.4325 -> 15.43; 1,234.80 x 1.25 / 100 = 15.435 -> 15.44.
        (LateFeeRule(percent=D("1.25"), cap=D("1500")), "1234.58", "15.43"),
        (LateFeeRule(percent=D("1.25"), cap=D("1500")), "1234.80", "15.44"),
        # Half a paisa rounds up: 0.25 x 2 / 100 = 0.005 -> 0.01.
        (TWO_PCT_CAPPED, "0.25", "0.01"),
        # A cap of 0 charges nothing, a fixed fee above the cap is cut to it.
        (LateFeeRule(fixed=D("500"), cap=D("0")), "6990.00", "0.00"),
        (LateFeeRule(fixed=D("500"), cap=D("300")), "6990.00", "300.00"),
        # No cap at all: 2% of 80,000 is 1,600.00.
        (LateFeeRule(percent=D("2")), "80000.00", "1600.00"),
    ],
)
def test_percentage_fee_against_its_cap(rule, overdue, expected):
    fee = late_fee(rule, D(overdue), DUE, date(2026, 3, 11))
    assert fee.amount == D(expected)


def test_grace_days_end_the_day_before_the_fee():
    rule = LateFeeRule(percent=D("2"), cap=D("1500"), grace_days=2)
    # Due 10 March, two grace days (11th, 12th): first charged on the 13th.
    assert late_fee(rule, D("6990"), DUE, date(2026, 3, 12)).amount == D("0.00")
    assert late_fee(rule, D("6990"), DUE, date(2026, 3, 13)).amount == D("139.80")


def flat_terms() -> ServicingTerms:
    """Rs 10,000 flat at 24% over 3 months from 15 Jan 2024 (a QIST-FLAT-like loan).

    Markup 10,000 x 24% x 3/12 = 600.00; instalment (10,000 + 600) / 3 = 3,533.33, up to the
    rupee 3,534.00 (the last one 3,532.00), due 15 Feb, 15 Mar and 15 Apr 2024.
    """
    terms = LoanTerms(
        principal=D("10000"),
        annual_rate=D("24"),
        tenor=3,
        start=date(2024, 1, 15),
        method=Method.FLAT,
    )
    return ServicingTerms(booked_state(terms), TWO_PCT_CAPPED)


def test_replay_charges_two_percent_of_what_is_unpaid_below_the_cap():
    terms = flat_terms()
    assert [i.principal + i.profit for i in terms.state.instalments] == [
        D("3534.00"),
        D("3534.00"),
        D("3532.00"),
    ]
    # Nothing paid: on 16 Feb, 2% of 3,534.00 = 70.68.
    unpaid = replay(terms, [], date(2024, 2, 16))
    assert [(f.n, f.on, f.amount) for f in unpaid.late_fees] == [(1, date(2024, 2, 16), D("70.68"))]
    assert unpaid.state.instalments[0].late_fee == D("70.68")
    # 1,000 paid on the due date: 2% of the 2,534.00 still unpaid = 50.68.
    part = replay(terms, [Txn(1, TxnKind.PAYMENT, date(2024, 2, 15), D("1000"))], date(2024, 2, 16))
    assert [f.amount for f in part.late_fees] == [D("50.68")]
    # The overdue amount then includes the fee: 2,534.00 + 50.68 = 2,584.68, one day late.
    assert (part.overdue, part.days_past_due) == (D("2584.68"), 1)
