"""A late-fee rule's bounds, and the smallest amount overdue: each written out by hand.

The rule takes a percent from 0 to 100 (both ends allowed), a fixed fee and a cap of 0 or
more; anything else is refused before a product can be saved with it. An instalment short by
a single paisa past its grace days is overdue: the fixed fee is charged (the product's arrears
tolerance, not this function, is what forgives a few rupees).
"""

from datetime import date
from decimal import Decimal

import pytest

from lending.finance.errors import FinanceError
from lending.finance.late_fees import LateFeeRule, late_fee

DUE = date(2026, 12, 28)


@pytest.mark.parametrize("percent", ["0", "0.01", "99.99", "100"])
def test_a_percent_from_0_to_100_is_a_rule(percent):
    assert LateFeeRule(percent=Decimal(percent)).percent == Decimal(percent)


@pytest.mark.parametrize("percent", ["-0.01", "-0.5", "100.01", "0.001"])
def test_a_percent_outside_0_to_100_or_finer_than_a_hundredth_is_refused(percent):
    with pytest.raises(FinanceError, match="percent"):
        LateFeeRule(percent=Decimal(percent))


@pytest.mark.parametrize("cap", ["-0.01", "-0.5"])
def test_a_negative_cap_is_refused(cap):
    with pytest.raises(FinanceError, match="cap"):
        LateFeeRule(percent=Decimal("2"), cap=Decimal(cap))


def test_a_cap_of_zero_is_a_rule_that_charges_nothing():
    rule = LateFeeRule(fixed=Decimal("500"), cap=Decimal("0"), grace_days=3)
    assert late_fee(rule, Decimal("6990.00"), DUE, date(2027, 1, 1)).amount == Decimal("0.00")


def test_one_paisa_overdue_past_grace_is_charged_the_fixed_fee():
    rule = LateFeeRule(fixed=Decimal("500"), grace_days=3)
    # Fee day: 28 Dec + 3 grace days + 1 = 1 Jan. One paisa short then: Rs 500.00.
    assert late_fee(rule, Decimal("0.01"), DUE, date(2027, 1, 1)).amount == Decimal("500.00")
    assert late_fee(rule, Decimal("0.00"), DUE, date(2027, 1, 1)).amount == Decimal("0.00")
    assert late_fee(rule, Decimal("0.01"), DUE, date(2026, 12, 31)).amount == Decimal("0.00")
